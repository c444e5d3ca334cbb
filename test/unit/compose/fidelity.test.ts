/**
 * Issue 11, "Compose fidelity on real-world files": the loader behaves as Docker Compose v2
 * (compose-go) does where real files depend on it.
 */
import { describe, expect, it } from 'vitest';

import { rejection, withProject } from './helpers.js';

describe('a "$" that starts no variable', () => {
  it('is kept as written in commands, environment and labels', async () => {
    await withProject(async (p) => {
      p.write(
        'compose.yaml',
        [
          'services:',
          '  web:',
          '    image: busybox',
          '    command: sh -c "echo $(hostname) $$HOME $1"',
          '    entrypoint: ["awk", "{print $0}"]',
          '    environment:',
          '      PRICE: 5$',
          '      HOST: ${H}',
          '',
        ].join('\n'),
      );
      const proj = await p.load({ env: { H: 'h' } });
      const web = proj.services.web;
      expect(web.command).toEqual(['sh', '-c', 'echo $(hostname) $HOME $1']);
      expect(web.entrypoint).toEqual(['awk', '{print $0}']);
      expect(web.environment).toEqual({ PRICE: '5$', HOST: 'h' });
    });
  });
});

describe('volume targets', () => {
  it('are cleaned as Compose does (path.Clean), so -f files merge by target', async () => {
    await withProject(async (p) => {
      p.write(
        'compose.yaml',
        'services:\n  web:\n    image: busybox\n    volumes:\n      - ./html:/var/www/html/\n      - type: volume\n        source: data\n        target: /data//x/../y/\nvolumes:\n  data: {}\n',
      );
      p.write('compose.override.yaml', 'services:\n  web:\n    volumes:\n      - ./site:/var/www/html:ro\n      - /tmp:/data/y\n');
      const proj = await p.load();
      const vols = proj.services.web.volumes;
      expect(vols.map((v) => [v.target, v.source?.replace(p.dir, '.'), v.read_only])).toEqual([
        ['/var/www/html', './site', true],
        ['/data/y', '/tmp', false],
      ]);
    });
  });
});

describe('rejected as Compose rejects them', () => {
  it('an empty compose file', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', '# nothing yet\n');
      const e = await rejection(p.load());
      expect(e.code).toBe('SPEC_INVALID');
      expect(e.message).toMatch(/^empty compose file: .*compose\.yaml defines nothing$/);
      // an empty override next to a real file is fine
      p.write('compose.yaml', 'services:\n  web:\n    image: busybox\n');
      p.write('compose.override.yaml', '');
      expect(Object.keys((await p.load()).services)).toEqual(['web']);
    });
  });

  it('a platform that build.platforms does not include', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  web:\n    image: x\n    platform: linux/arm64\n    build:\n      context: .\n      platforms: [linux/amd64]\n');
      const e = await rejection(p.load());
      expect(e.code).toBe('SPEC_INVALID');
      expect(e.message).toMatch(
        /compose\.yaml:4:5: services\.web\.platform: platform "linux\/arm64" of service "web" is not among its build\.platforms \(linux\/amd64\)/,
      );
      p.write(
        'compose.yaml',
        'services:\n  web:\n    image: x\n    platform: linux/amd64\n    build:\n      context: .\n      platforms: [linux/amd64, linux/arm64]\n',
      );
      expect((await p.load()).services.web.unsupported.platform).toBe('linux/amd64');
    });
  });

  it('a volume whose source interpolates to empty', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  web:\n    image: busybox\n    volumes:\n      - ${FILE}:/x\n');
      const e = await rejection(p.load());
      expect(e.code).toBe('SPEC_INVALID');
      expect(e.message).toMatch(/compose\.yaml:5:9: services\.web\.volumes\[0\]: invalid volume ":\/x": empty section between colons/);
      expect(e.hint).toMatch(/unset or empty/);
      p.write('compose.yaml', 'services:\n  web:\n    image: busybox\n    volumes:\n      - ./a::/x\n');
      expect((await rejection(p.load())).message).toMatch(/empty section between colons/);
      expect(await p.load({ env: { FILE: './a' } }).catch(() => undefined)).toBeUndefined();
    });
  });

  it('image: "" without build, as no image at all', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  web:\n    image: ""\n');
      const e = await rejection(p.load());
      expect(e.message).toMatch(/compose\.yaml:2:3: services\.web: service "web" has neither an image nor a build context specified/);
      p.write('compose.yaml', 'services:\n  web:\n    image: ""\n    build: .\n');
      expect((await p.load()).services.web.image).toBeUndefined();
    });
  });
});

describe('error precedence and positions', () => {
  it('a dependency cycle names where its first edge is declared, implied edges included', async () => {
    await withProject(async (p) => {
      p.write(
        'compose.yaml',
        'services:\n  a:\n    image: x\n    depends_on:\n      b:\n        condition: service_started\n  b:\n    image: x\n    links: ["a:alias"]\n',
      );
      const e = await rejection(p.load());
      expect(e.code).toBe('SPEC_REFERENCE');
      expect(e.message).toBe(`${p.dir}/compose.yaml:5:7: services.a.depends_on.b: dependency cycle between services: a -> b -> a`);
      p.write('compose.yaml', 'services:\n  b:\n    image: x\n    volumes_from: [a]\n  a:\n    image: x\n    network_mode: service:b\n');
      expect((await rejection(p.load())).message).toBe(`${p.dir}/compose.yaml:7:5: services.a.network_mode: dependency cycle between services: a -> b -> a`);
    });
  });

  it('an unknown key wins over an interpolation error in its value', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  web:\n    image: busybox\n    pre_start:\n      - command: echo ${}\n');
      const e = await rejection(p.load());
      expect(e.code).toBe('SPEC_INVALID');
      expect(e.message).toMatch(/compose\.yaml:4:5: services\.web\.pre_start: unknown key "pre_start"/);
      // a bad expression under a known key is still an interpolation error
      p.write('compose.yaml', 'services:\n  web:\n    image: busybox\n    command: echo ${}\n');
      expect((await rejection(p.load())).code).toBe('SPEC_INTERPOLATION');
    });
  });

  it('an implied dependency on an undefined service names its field', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  web:\n    image: x\n    links: [dbb]\n  db:\n    image: x\n');
      const e = await rejection(p.load());
      expect(e.code).toBe('SPEC_REFERENCE');
      expect(e.message).toMatch(/compose\.yaml:4:13: services\.web\.links\[0\]: links refers to undefined service "dbb"$/);
      expect(e.hint).toBe('did you mean "db"?');
    });
  });
});

describe('implied dependencies (links, service: namespaces, volumes_from)', () => {
  const compose = [
    'services:',
    '  web:',
    '    image: x',
    '    links: [db, "cache:redis"]',
    '    ipc: service:shm',
    '    volumes_from: [files, "logs:ro", "container:other"]',
    '    depends_on:',
    '      cache:',
    '        condition: service_healthy',
    '  sidecar:',
    '    image: x',
    '    network_mode: service:web',
    '    pid: service:web',
    '  db: {image: x}',
    '  cache: {image: x, healthcheck: {test: [CMD, "true"]}}',
    '  shm: {image: x, ipc: shareable}',
    '  files: {image: x}',
    '  logs: {image: x}',
    '',
  ].join('\n');

  it('become depends_on entries with the fields compose-go sets; explicit entries win', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', compose);
      const proj = await p.load();
      const started = (restart: boolean) => ({ condition: 'service_started', restart, required: true });
      expect(proj.services.web.depends_on).toEqual({
        cache: { condition: 'service_healthy', restart: false, required: true },
        db: started(true),
        shm: started(true),
        files: started(false),
        logs: started(false),
      });
      expect(proj.services.sidecar.depends_on).toEqual({ web: started(true) });
      expect(proj.services.web.links).toEqual([
        { service: 'db', alias: 'db' },
        { service: 'cache', alias: 'redis' },
      ]);
      expect(proj.services.web.unsupported.links).toBeUndefined();
      expect(proj.warnings.join('\n')).not.toMatch(/links/);
    });
  });

  it('show in config output as Compose prints them, links in their short form', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', compose);
      const { renderConfig } = await import('../../../src/compose/index.js');
      const view = JSON.parse(renderConfig(await p.load(), 'json'));
      expect(view.services.web.links).toEqual(['db', 'cache:redis']);
      expect(view.services.web.depends_on.db).toEqual({ condition: 'service_started', restart: true, required: true });
      expect(view.services.web.depends_on.files).toEqual({ condition: 'service_started', restart: false, required: true });
      expect(view.services.sidecar.depends_on).toEqual({ web: { condition: 'service_started', restart: true, required: true } });
    });
  });

  it('`up SERVICE` and `config SERVICE` bring the implied dependencies along', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  web:\n    image: x\n    links: [db]\n  db:\n    image: x\n    profiles: [data]\n');
      const proj = await p.load({ services: ['web'] });
      expect(Object.keys(proj.services)).toEqual(['db', 'web']);
      const e = await rejection(p.load());
      expect(e.message).toMatch(/service "web" depends on "db", which is not enabled/);
    });
  });
});

describe('env files of services the command does not work on', () => {
  const compose = [
    'services:',
    '  web:',
    '    image: x',
    '    env_file: [web.env]',
    '    depends_on: [db]',
    '  db:',
    '    image: x',
    '    env_file:',
    '      - db.env',
    '      - path: optional.env',
    '        required: false',
    '  worker:',
    '    image: x',
    '    env_file: [missing.env]',
    '  tool:',
    '    image: x',
    '    profiles: [tools]',
    '    env_file: [missing-too.env]',
    '',
  ].join('\n');

  it('are not needed: config/up SERVICE need only the env files of that service and its dependencies', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', compose);
      p.write('web.env', 'A=1\n');
      p.write('db.env', 'B=2\n');
      const proj = await p.load({ services: ['web'] });
      expect(proj.services.web.environment).toEqual({ A: '1' });
      expect(proj.services.db.environment).toEqual({ B: '2' });
      // the whole project needs worker's file; a disabled service's file is never needed
      const e = await rejection(p.load());
      expect(e.code).toBe('SPEC_INVALID');
      expect(e.message).toMatch(/compose\.yaml:14:5: services\.worker\.env_file: env file .*missing\.env not found/);
      // a dependency's missing file is still an error
      p.write('compose.yaml', compose.replace('      - db.env', '      - nope.env'));
      expect((await rejection(p.load({ services: ['web'] }))).message).toMatch(/services\.db\.env_file: env file .*nope\.env not found/);
    });
  });

  it('are still read when present, and environment still wins over them', async () => {
    await withProject(async (p) => {
      p.write(
        'compose.yaml',
        'services:\n  a:\n    image: x\n    env_file: [a.env]\n    environment: [K=from-env]\n  b:\n    image: x\n    env_file: [b.env]\n',
      );
      p.write('a.env', 'K=from-file\nL=2\n');
      p.write('b.env', 'M=3\n');
      const proj = await p.load({ services: ['b'] });
      expect(proj.services.a.environment).toEqual({ K: 'from-env', L: '2' });
      expect(proj.services.b.environment).toEqual({ M: '3' });
    });
  });
});

describe('build.dockerfile_inline', () => {
  it('gets no default dockerfile, and the two together are refused as Compose does', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  web:\n    build:\n      dockerfile_inline: FROM busybox\n');
      expect((await p.load()).services.web.build).toEqual({ context: p.dir, dockerfile_inline: 'FROM busybox' });
      p.write('compose.yaml', 'services:\n  web:\n    build:\n      dockerfile: Dockerfile\n      dockerfile_inline: FROM busybox\n');
      expect((await rejection(p.load())).message).toMatch(
        /compose\.yaml:5:7: services\.web\.build\.dockerfile_inline: service "web" sets both build\.dockerfile and build\.dockerfile_inline/,
      );
    });
  });
});

describe('secrets, configs and long-syntax binds as compose-go normalizes them', () => {
  it('resolve secret and config files, and give service secrets their long form and default target', async () => {
    await withProject(async (p) => {
      p.write(
        'compose.yaml',
        'services:\n  db:\n    image: x\n    secrets: [pw, {source: key, target: /k}]\n    configs: [conf]\nsecrets:\n  pw:\n    file: db/password.txt\n  key:\n    environment: KEY\nconfigs:\n  conf:\n    file: ./conf.ini\n',
      );
      const proj = await p.load();
      expect(proj.secrets).toEqual({ pw: { file: `${p.dir}/db/password.txt` }, key: { environment: 'KEY' } });
      expect(proj.configs).toEqual({ conf: { file: `${p.dir}/conf.ini` } });
      expect(proj.services.db.unsupported.secrets).toEqual([
        { source: 'pw', target: '/run/secrets/pw' },
        { source: 'key', target: '/k' },
      ]);
      expect(proj.services.db.unsupported.configs).toEqual([{ source: 'conf' }]);
    });
  });

  it('create the host path when a bind: mapping is given without create_host_path, not when bind: is absent', async () => {
    await withProject(async (p) => {
      p.write(
        'compose.yaml',
        'services:\n  web:\n    image: x\n    volumes:\n      - {type: bind, source: ./a, target: /a}\n      - {type: bind, source: ./b, target: /b, bind: {propagation: rslave}}\n      - {type: bind, source: ./c, target: /c, bind: {create_host_path: false}}\n',
      );
      const vols = (await p.load()).services.web.volumes;
      expect(vols.map((v) => v.bind)).toEqual([{ create_host_path: false }, { create_host_path: true, propagation: 'rslave' }, { create_host_path: false }]);
    });
  });
});
