import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { rejection, withProject } from './helpers.js';

const svc = (body: string) => `services:\n  web:\n    image: busybox\n${body}`;

describe('file discovery and project name', () => {
  it('finds compose.yaml in a parent directory, adds the override file, names the project after the directory', async () => {
    await withProject(async (p) => {
      p.write('My App/compose.yaml', 'services:\n  web:\n    image: busybox\n');
      p.write('My App/compose.override.yaml', 'services:\n  web:\n    environment: [A=1]\n');
      p.write('My App/sub/dir/.keep', '');
      const proj = await p.load({ workingDir: path.join(p.dir, 'My App/sub/dir') });
      expect(proj.name).toBe('myapp');
      expect(proj.workingDir).toBe(path.join(p.dir, 'My App'));
      expect(proj.composeFiles.map((f) => path.basename(f))).toEqual(['compose.yaml', 'compose.override.yaml']);
      expect(proj.services.web.environment).toEqual({ A: '1' });
    });
  });

  it('prefers compose.yaml over docker-compose.yml and warns', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  a:\n    image: busybox\n');
      p.write('docker-compose.yml', 'services:\n  b:\n    image: busybox\n');
      const proj = await p.load();
      expect(Object.keys(proj.services)).toEqual(['a']);
      expect(proj.warnings.join('\n')).toMatch(/multiple config files/);
    });
  });

  it('errors clearly when no file exists', async () => {
    await withProject(async (p) => {
      const e = await rejection(p.load({ workingDir: p.dir }));
      // the temp dir's parents (e.g. /tmp) hold no compose file
      expect(e.code).toBe('SPEC_NOT_FOUND');
      expect(e.message).toMatch(/compose\.yaml/);
    });
  });

  it('name precedence: -p, COMPOSE_PROJECT_NAME, name:, directory; invalid explicit names fail', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'name: fromfile\nservices:\n  web:\n    image: busybox\n');
      expect((await p.load()).name).toBe('fromfile');
      expect((await p.load({ env: { COMPOSE_PROJECT_NAME: 'fromenv' } })).name).toBe('fromenv');
      expect((await p.load({ projectName: 'flag', env: { COMPOSE_PROJECT_NAME: 'fromenv' } })).name).toBe('flag');
      const e = await rejection(p.load({ projectName: 'Bad Name' }));
      expect(e.message).toMatch(/invalid project name/);
    });
  });

  it('COMPOSE_FILE lists files (also from .env), -f resolves against the working dir', async () => {
    await withProject(async (p) => {
      p.write('a.yaml', 'services:\n  web:\n    image: a\n');
      p.write('b.yaml', 'services:\n  web:\n    image: b\n');
      expect((await p.load({ env: { COMPOSE_FILE: 'a.yaml:b.yaml' } })).services.web.image).toBe('b');
      p.write('.env', 'COMPOSE_FILE=b.yaml:a.yaml\n');
      expect((await p.load()).services.web.image).toBe('a');
      expect((await p.load({ files: ['a.yaml'] })).services.web.image).toBe('a');
    });
  });
});

describe('merging several files', () => {
  it('merges mappings, appends lists, replaces command, merges ports by key and volumes by target', async () => {
    await withProject(async (p) => {
      p.write(
        'compose.yaml',
        svc(
          [
            '    command: ["echo", "base"]',
            '    environment: {A: "1", B: "2"}',
            '    ports: ["8080:80", "9090:90"]',
            '    volumes: ["./a:/data", "./logs:/logs"]',
            '    dns: [1.1.1.1]',
            '    labels: [x=1]',
            '',
          ].join('\n'),
        ),
      );
      p.write(
        'override.yaml',
        [
          'services:',
          '  web:',
          '    command: echo override',
          '    environment: [B=20, C=3]',
          '    ports:',
          '      - target: 80',
          '        published: "8080"',
          '        host_ip: ""',
          '        app_protocol: http',
          '      - "7070:70"',
          '    volumes: ["./b:/data:ro"]',
          '    dns: [8.8.8.8]',
          '    labels: {y: "2"}',
          '',
        ].join('\n'),
      );
      const proj = await p.load({ files: ['compose.yaml', 'override.yaml'] });
      const web = proj.services.web;
      expect(web.command).toEqual(['echo', 'override']);
      expect(web.environment).toEqual({ A: '1', B: '20', C: '3' });
      expect(web.ports.map((x) => `${x.published}:${x.target}`)).toEqual(['8080:80', '9090:90', '7070:70']);
      expect(web.ports[0].app_protocol).toBe('http');
      expect(web.volumes.map((v) => [v.source, v.target, v.read_only])).toEqual([
        [path.join(p.dir, 'b'), '/data', true],
        [path.join(p.dir, 'logs'), '/logs', false],
      ]);
      expect(web.dns).toEqual(['1.1.1.1', '8.8.8.8']);
      expect(web.labels).toEqual({ x: '1', y: '2' });
    });
  });

  it('paths in override files are relative to the project directory (the first file)', async () => {
    await withProject(async (p) => {
      p.write('app/compose.yaml', svc(''));
      p.write('overrides/dev.yaml', 'services:\n  web:\n    volumes: ["./src:/src"]\n');
      const proj = await p.load({ files: ['app/compose.yaml', 'overrides/dev.yaml'] });
      expect(proj.services.web.volumes[0].source).toBe(path.join(p.dir, 'app/src'));
    });
  });

  it('honours !reset and !override', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', svc('    ports: ["80:80"]\n    environment: {A: "1", B: "2"}\n    dns: [1.1.1.1]\n    user: nobody\n'));
      p.write('o.yaml', 'services:\n  web:\n    ports: !reset []\n    environment: !override {C: "3"}\n    dns: !override [9.9.9.9]\n    user: !reset null\n');
      const web = (await p.load({ files: ['compose.yaml', 'o.yaml'] })).services.web;
      expect(web.ports).toEqual([]);
      expect(web.environment).toEqual({ C: '3' });
      expect(web.dns).toEqual(['9.9.9.9']);
      expect(web.user).toBeUndefined();
    });
  });
});

describe('extends and include', () => {
  it('extends a service in the same file and in another file, keeping paths relative to the declaring file', async () => {
    await withProject(async (p) => {
      p.write(
        'common/base.yaml',
        'services:\n  base:\n    image: busybox\n    env_file: base.env\n    volumes: ["./conf:/conf"]\n    environment: {FROM: base, KEEP: "1"}\n',
      );
      p.write('common/base.env', 'FROM_FILE=yes\n');
      p.write(
        'compose.yaml',
        [
          'services:',
          '  tmpl:',
          '    image: busybox',
          '    command: ["sleep", "1"]',
          '  web:',
          '    extends: tmpl',
          '    command: ["sleep", "2"]',
          '  api:',
          '    extends:',
          '      file: common/base.yaml',
          '      service: base',
          '    environment: {FROM: api}',
          '',
        ].join('\n'),
      );
      const proj = await p.load();
      expect(proj.services.web.command).toEqual(['sleep', '2']);
      expect(proj.services.web.image).toBe('busybox');
      const api = proj.services.api;
      expect(api.volumes[0].source).toBe(path.join(p.dir, 'common/conf'));
      expect(api.environment).toEqual({ FROM_FILE: 'yes', FROM: 'api', KEEP: '1' });
    });
  });

  it('detects extends cycles and unknown bases', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  a:\n    extends: b\n  b:\n    extends: a\n');
      expect((await rejection(p.load())).message).toMatch(/extends cycle/);
      p.write('compose.yaml', 'services:\n  a:\n    image: x\n    extends: bsae\n  base:\n    image: y\n');
      const e = await rejection(p.load());
      expect(e.message).toMatch(/unknown service "bsae"/);
      expect(e.hint).toMatch(/base/);
    });
  });

  it('includes another project with its own relative paths; a redefinition is an error', async () => {
    await withProject(async (p) => {
      p.write('db/compose.yaml', 'services:\n  db:\n    image: busybox\n    volumes: ["./data:/data"]\nvolumes:\n  dbdata: {}\n');
      p.write('compose.yaml', 'include:\n  - db/compose.yaml\nservices:\n  web:\n    image: busybox\n    depends_on: [db]\n');
      const proj = await p.load();
      expect(Object.keys(proj.services)).toEqual(['db', 'web']);
      expect(proj.services.db.volumes[0].source).toBe(path.join(p.dir, 'db/data'));
      expect(proj.volumes.dbdata.name).toBe(
        `${path
          .basename(p.dir)
          .toLowerCase()
          .replace(/[^a-z0-9_-]/g, '')}_dbdata`,
      );
      p.write('compose.yaml', 'include:\n  - db/compose.yaml\nservices:\n  db:\n    image: other\n');
      expect((await rejection(p.load())).message).toMatch(/defined both here and in an included file/);
    });
  });
});

describe('profiles', () => {
  const file = [
    'services:',
    '  web:',
    '    image: busybox',
    '  debug:',
    '    image: busybox',
    '    profiles: [debug]',
    '    depends_on: [tools]',
    '  tools:',
    '    image: busybox',
    '    profiles: [tools]',
    '  needs-debug:',
    '    image: busybox',
    '    profiles: [extra]',
    '    depends_on: [debug]',
    '',
  ].join('\n');

  it('enables services by --profile, COMPOSE_PROFILES, "*" and by naming them (with their dependencies)', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', file);
      const none = await p.load();
      expect(Object.keys(none.services)).toEqual(['web']);
      expect(Object.keys(none.disabledServices)).toEqual(['debug', 'needs-debug', 'tools']);
      expect(none.allProfiles).toEqual(['debug', 'extra', 'tools']);
      expect(Object.keys((await p.load({ profiles: ['debug', 'tools'] })).services)).toEqual(['debug', 'tools', 'web']);
      expect(Object.keys((await p.load({ env: { COMPOSE_PROFILES: 'tools' } })).services)).toEqual(['tools', 'web']);
      expect(Object.keys((await p.load({ profiles: ['*'] })).services)).toHaveLength(4);
      expect(Object.keys((await p.load({ services: ['needs-debug'] })).services)).toEqual(['debug', 'needs-debug', 'tools', 'web']);
    });
  });

  it('an enabled service depending on a disabled one is an error that names the profile', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', file);
      const e = await rejection(p.load({ profiles: ['debug'] }));
      expect(e.code).toBe('SPEC_REFERENCE');
      expect(e.message).toMatch(/"debug" depends on "tools".*profile tools/);
      expect(e.hint).toMatch(/--profile tools/);
    });
  });

  it('an optional dependency (required: false) on a disabled service is dropped with a warning', async () => {
    await withProject(async (p) => {
      p.write(
        'compose.yaml',
        'services:\n  web:\n    image: x\n    depends_on:\n      cache:\n        condition: service_started\n        required: false\n  cache:\n    image: x\n    profiles: [cache]\n',
      );
      const proj = await p.load();
      expect(proj.services.web.depends_on).toEqual({});
      expect(proj.warnings.join('\n')).toMatch(/optional dependency "cache"/);
    });
  });
});

describe('short syntax becomes long syntax with defaults', () => {
  it('ports: ranges, host ip, protocol, long form', async () => {
    await withProject(async (p) => {
      p.write(
        'compose.yaml',
        svc(
          '    ports:\n      - 80\n      - "127.0.0.1:5353:53/udp"\n      - "8000-8001:80-81"\n      - "[::1]:9000:90"\n      - "3000"\n      - "6000-6010:60"\n',
        ),
      );
      const ports = (await p.load()).services.web.ports;
      expect(ports).toEqual([
        { target: 80, protocol: 'tcp', mode: 'ingress' },
        { target: 53, published: '5353', host_ip: '127.0.0.1', protocol: 'udp', mode: 'ingress' },
        { target: 80, published: '8000', protocol: 'tcp', mode: 'ingress' },
        { target: 81, published: '8001', protocol: 'tcp', mode: 'ingress' },
        { target: 90, published: '9000', host_ip: '::1', protocol: 'tcp', mode: 'ingress' },
        { target: 3000, protocol: 'tcp', mode: 'ingress' },
        { target: 60, published: '6000-6010', protocol: 'tcp', mode: 'ingress' },
      ]);
    });
  });

  it('volumes: bind, named, anonymous, tmpfs; the service tmpfs key kept', async () => {
    await withProject(async (p) => {
      p.write(
        'compose.yaml',
        svc(
          [
            '    volumes:',
            '      - ./site:/www:ro',
            '      - data:/data:nocopy',
            '      - /cache',
            '      - ~/x:/x',
            '      - type: tmpfs',
            '        target: /run',
            '        tmpfs: {size: 64m, mode: "1777"}',
            '      - type: bind',
            '        source: /etc/hosts',
            '        target: /h',
            '    tmpfs: /tmp',
            'volumes:',
            '  data:',
            '',
          ].join('\n'),
        ),
      );
      const proj = await p.load({ env: { HOME: '/home/u' } });
      expect(proj.services.web.volumes).toEqual([
        { type: 'bind', source: path.join(p.dir, 'site'), target: '/www', read_only: true, bind: { create_host_path: true } },
        { type: 'volume', source: 'data', target: '/data', read_only: false, volume: { nocopy: true } },
        { type: 'volume', target: '/cache', read_only: false, volume: { nocopy: false } },
        { type: 'bind', source: '/home/u/x', target: '/x', read_only: false, bind: { create_host_path: true } },
        { type: 'tmpfs', target: '/run', read_only: false, tmpfs: { size: 64 * 1024 * 1024, mode: 0o1777 } },
        { type: 'bind', source: '/etc/hosts', target: '/h', read_only: false, bind: { create_host_path: false } },
      ]);
      expect(proj.services.web.tmpfs).toEqual(['/tmp']);
      expect(proj.volumes.data.name).toMatch(/_data$/);
    });
  });

  it('command, environment, depends_on, networks, healthcheck, resources, extra_hosts, ulimits', async () => {
    await withProject(async (p) => {
      p.write(
        'compose.yaml',
        [
          'services:',
          '  db:',
          '    image: busybox',
          '    healthcheck:',
          '      test: wget -qO- http://localhost/ || exit 1',
          '      interval: 1m30s',
          '      timeout: 5s',
          '      retries: 3',
          '      start_period: 500ms',
          '  web:',
          '    image: busybox',
          `    command: sh -c 'echo "hi there"'`,
          '    entrypoint: ["/bin/sh"]',
          '    environment: [A=1, B, C=x=y]',
          '    depends_on: [db]',
          '    networks: [front]',
          '    mem_limit: 512m',
          '    cpus: "1.5"',
          '    pids_limit: 100',
          '    stop_grace_period: 1m',
          '    extra_hosts: ["somehost:10.0.0.1", "other=10.0.0.2"]',
          '    ulimits:',
          '      nofile: {soft: 1024, hard: 2048}',
          '      nproc: 512',
          '    sysctls: [net.core.somaxconn=1024]',
          '    init: true',
          '    deploy:',
          '      replicas: 2',
          '      resources:',
          '        limits: {cpus: "0.5", memory: 1g, pids: 50}',
          '  off:',
          '    image: busybox',
          '    healthcheck:',
          '      test: ["NONE"]',
          'networks:',
          '  front: {}',
          '',
        ].join('\n'),
      );
      const proj = await p.load({ env: { B: 'from-shell' } });
      const web = proj.services.web;
      expect(web.command).toEqual(['sh', '-c', 'echo "hi there"']);
      expect(web.entrypoint).toEqual(['/bin/sh']);
      expect(web.environment).toEqual({ A: '1', B: 'from-shell', C: 'x=y' });
      expect(web.depends_on).toEqual({ db: { condition: 'service_started', restart: false, required: true } });
      expect(web.networks).toEqual({ front: null });
      expect(web.mem_limit).toBe(512 * 1024 ** 2);
      expect(web.cpus).toBe(1.5);
      expect(web.pids_limit).toBe(100);
      expect(web.stop_grace_period).toBe(60_000);
      expect(web.extra_hosts).toEqual({ somehost: ['10.0.0.1'], other: ['10.0.0.2'] });
      expect(web.ulimits).toEqual({ nofile: { soft: 1024, hard: 2048 }, nproc: { soft: 512, hard: 512 } });
      expect(web.sysctls).toEqual({ 'net.core.somaxconn': '1024' });
      expect(web.init).toBe(true);
      expect(web.deploy?.replicas).toBe(2);
      expect(web.deploy?.resources?.limits).toEqual({ cpus: 0.5, memory: 1024 ** 3, pids: 50 });
      expect(proj.services.db.healthcheck).toEqual({
        test: ['CMD-SHELL', 'wget -qO- http://localhost/ || exit 1'],
        interval: 90_000,
        timeout: 5000,
        retries: 3,
        start_period: 500,
        disable: false,
      });
      expect(proj.services.off.healthcheck?.disable).toBe(true);
      // the default network exists only because db/off use it
      expect(Object.keys(proj.networks)).toEqual(['default', 'front']);
      expect(proj.services.db.networks).toEqual({ default: null });
    });
  });

  it('env_file entries are read (required or not) and overlaid by environment', async () => {
    await withProject(async (p) => {
      p.write('a.env', 'A=from-a\nB=from-a\n');
      p.write('compose.yaml', svc('    env_file:\n      - a.env\n      - path: missing.env\n        required: false\n    environment:\n      B: own\n'));
      const web = (await p.load()).services.web;
      expect(web.environment).toEqual({ A: 'from-a', B: 'own' });
      expect(web.env_file).toEqual([
        { path: path.join(p.dir, 'a.env'), required: true },
        { path: path.join(p.dir, 'missing.env'), required: false },
      ]);
      p.write('compose.yaml', svc('    env_file: nope.env\n'));
      expect((await rejection(p.load())).message).toMatch(/nope\.env not found/);
    });
  });
});

describe('validation errors', () => {
  it('unknown keys name file:line:col, the path, and the nearest valid key', async () => {
    await withProject(async (p) => {
      const f = p.write('compose.yaml', 'services:\n  web:\n    image: busybox\n    enviroment:\n      A: 1\n');
      const e = await rejection(p.load());
      expect(e.code).toBe('SPEC_INVALID');
      expect(e.message).toBe(`${f}:4:5: services.web.enviroment: unknown key "enviroment"`);
      expect(e.hint).toBe('did you mean "environment"?');
    });
  });

  it('unknown keys in nested long syntax and at the top level', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', svc('    ports:\n      - target: 80\n        publshed: 8080\n'));
      const e = await rejection(p.load());
      expect(e.message).toMatch(/compose\.yaml:6:9: services\.web\.ports\[0\]\.publshed: unknown key/);
      expect(e.hint).toMatch(/published/);
      p.write('compose.yaml', 'servics:\n  web: {}\n');
      const e2 = await rejection(p.load());
      expect(e2.message).toMatch(/compose\.yaml:1:1: servics: unknown key/);
      expect(e2.hint).toMatch(/"services"/);
    });
  });

  it('wrong types name what was expected; x-* keys are allowed and kept', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', svc('    ports:\n      - "80:80"\n      - [1, 2]\n'));
      const e = await rejection(p.load());
      expect(e.message).toMatch(/services\.web\.ports\[1\]: expected .*number.*string.*mapping.*got a list/);
      p.write('compose.yaml', 'x-common: &c\n  image: busybox\nservices:\n  web:\n    <<: *c\n    x-team: core\n');
      const proj = await p.load();
      expect(proj.services.web.image).toBe('busybox');
      expect(proj.services.web.extensions).toEqual({ 'x-team': 'core' });
      expect(proj.extensions['x-common']).toEqual({ image: 'busybox' });
    });
  });

  it('bad short syntax points at the item', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', svc('    ports:\n      - "80:80:80:80"\n'));
      expect((await rejection(p.load())).message).toMatch(/compose\.yaml:5:9: services\.web\.ports\[0\]: invalid port/);
      p.write('compose.yaml', svc('    volumes:\n      - data\n'));
      expect((await rejection(p.load())).message).toMatch(/container path must be absolute/);
      p.write('compose.yaml', svc('    mem_limit: lots\n'));
      expect((await rejection(p.load())).message).toMatch(/services\.web\.mem_limit: expected a size/);
      p.write('compose.yaml', svc('    restart: sometimes\n'));
      expect((await rejection(p.load())).hint).toMatch(/on-failure/);
      p.write('compose.yaml', svc('    healthcheck:\n      interval: soon\n'));
      expect((await rejection(p.load())).message).toMatch(/healthcheck\.interval: expected a duration/);
    });
  });

  it('YAML syntax errors carry a position', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  web:\n    image: "unterminated\n');
      const e = await rejection(p.load());
      expect(e.code).toBe('SPEC_PARSE');
      expect(e.message).toMatch(/compose\.yaml:\d+:\d+: invalid YAML/);
    });
  });

  it('a service needs an image or build', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  web:\n    command: ["true"]\n');
      expect((await rejection(p.load())).message).toMatch(/neither an image nor a build context/);
    });
  });
});

describe('cross-reference checks', () => {
  it('depends_on an unknown service suggests the nearest', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  web:\n    image: x\n    depends_on: [dbb]\n  db:\n    image: x\n');
      const e = await rejection(p.load());
      expect(e.code).toBe('SPEC_REFERENCE');
      expect(e.message).toMatch(/compose\.yaml:4:\d+: service "web" depends on undefined service "dbb"/);
      expect(e.hint).toBe('did you mean "db"?');
    });
  });

  it('dependency cycles name the services, deterministically', async () => {
    await withProject(async (p) => {
      p.write(
        'compose.yaml',
        'services:\n  c:\n    image: x\n    depends_on: [a]\n  a:\n    image: x\n    depends_on: [b]\n  b:\n    image: x\n    depends_on: [c]\n  d:\n    image: x\n    depends_on: [d]\n',
      );
      const e = await rejection(p.load());
      // named where the cycle's first edge (a -> b) is declared
      expect(e.message).toBe(`${p.dir}/compose.yaml:7:18: services.a.depends_on[0]: dependency cycle between services: a -> b -> c -> a`);
    });
  });

  it('unknown networks and volumes, and network_mode with networks', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', svc('    networks: [bakcend]\nnetworks:\n  backend: {}\n'));
      const e = await rejection(p.load());
      expect(e.message).toMatch(/undefined network "bakcend"/);
      expect(e.hint).toMatch(/backend/);
      p.write('compose.yaml', svc('    volumes: ["dta:/data"]\nvolumes:\n  data: {}\n'));
      expect((await rejection(p.load())).message).toMatch(/undefined volume "dta"/);
      p.write('compose.yaml', svc('    network_mode: host\n    networks: [a]\nnetworks:\n  a: {}\n'));
      expect((await rejection(p.load())).message).toMatch(/both network_mode and networks/);
      p.write('compose.yaml', svc('    network_mode: "service:other"\n  other:\n    image: x\n'));
      expect((await p.load()).services.web.depends_on.other.condition).toBe('service_started');
    });
  });

  it('external and named resources keep their names', async () => {
    await withProject(async (p) => {
      p.write(
        'compose.yaml',
        svc(
          '    networks: [ext, named]\n    volumes: [v:/v]\nnetworks:\n  ext:\n    external: true\n  named:\n    name: my-net\nvolumes:\n  v:\n    external: true\n    name: shared-vol\n',
        ) + 'name: proj\n',
      );
      const proj = await p.load();
      expect(proj.networks.ext).toMatchObject({ name: 'ext', external: true });
      expect(proj.networks.named).toMatchObject({ name: 'my-net', external: false });
      expect(proj.volumes.v).toMatchObject({ name: 'shared-vol', external: true });
      expect(proj.networks.default).toBeUndefined();
    });
  });
});

describe('unsupported keys', () => {
  it('are kept and reported as warnings, never silently ignored', async () => {
    await withProject(async (p) => {
      p.write(
        'compose.yaml',
        svc('    devices: ["/dev/fuse:/dev/fuse"]\n    build: .\n    deploy:\n      placement: {constraints: []}\nsecrets:\n  s:\n    file: ./s.txt\n'),
      );
      const proj = await p.load();
      expect(proj.services.web.unsupported).toEqual({ devices: ['/dev/fuse:/dev/fuse'] });
      expect(proj.services.web.build).toEqual({ context: p.dir, dockerfile: 'Dockerfile' });
      const w = proj.warnings.join('\n');
      expect(w).toMatch(/services\.web\.devices is not supported/);
      expect(w).not.toMatch(/build/);
      expect(w).toMatch(/services\.web\.deploy\.placement is not supported/);
      expect(w).toMatch(/top-level secrets are not supported/);
    });
  });
});

describe('more Compose rules', () => {
  it('included files interpolate with the parent environment first, then their env_file', async () => {
    await withProject(async (p) => {
      p.write('db/compose.yaml', 'services:\n  db:\n    image: ${DB_IMAGE}\n    environment:\n      MODE: ${MODE}\n');
      p.write('db/db.env', 'DB_IMAGE=from-include\nMODE=include\n');
      p.write('compose.yaml', 'include:\n  - path: db/compose.yaml\n    env_file: db/db.env\nservices:\n  web:\n    image: busybox\n');
      p.write('.env', 'MODE=parent\n');
      const proj = await p.load();
      expect(proj.services.db.image).toBe('from-include');
      expect(proj.services.db.environment.MODE).toBe('parent');
    });
  });

  it('COMPOSE_PROJECT_NAME from .env beats the top-level name', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'name: fromfile\nservices:\n  web:\n    image: busybox\n');
      p.write('.env', 'COMPOSE_PROJECT_NAME=fromdotenv\n');
      expect((await p.load()).name).toBe('fromdotenv');
    });
  });

  it('warns about the obsolete version key; rejects container_name with several replicas', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'version: "3"\nservices:\n  web:\n    image: busybox\n');
      expect((await p.load()).warnings.join('\n')).toMatch(/version key is obsolete/);
      p.write('compose.yaml', 'services:\n  web:\n    image: busybox\n    container_name: one\n    deploy:\n      replicas: 2\n');
      expect((await rejection(p.load())).message).toMatch(/container_name but runs 2 replicas/);
    });
  });

  it('scale becomes deploy.replicas and must agree with it', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  web:\n    image: busybox\n    scale: 3\n');
      expect((await p.load()).services.web.deploy?.replicas).toBe(3);
      p.write('compose.yaml', 'services:\n  web:\n    image: busybox\n    scale: 3\n    deploy:\n      replicas: 2\n');
      expect((await rejection(p.load())).message).toMatch(/scale \(3\) and deploy\.replicas \(2\) disagree/);
    });
  });

  it('duplicate keys and YAML merge keys', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  web:\n    image: a\n    image: b\n');
      expect((await rejection(p.load())).code).toBe('SPEC_PARSE');
      p.write(
        'compose.yaml',
        'x-a: &a\n  image: from-a\n  user: a\nx-b: &b\n  image: from-b\n  hostname: b\nservices:\n  web:\n    <<: [*a, *b]\n    user: own\n',
      );
      const web = (await p.load()).services.web;
      expect(web.image).toBe('from-a');
      expect(web.user).toBe('own');
      expect(web.hostname).toBe('b');
    });
  });

  it('profiles interact with depends_on of named services only through enabled services', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  migrate:\n    image: x\n    profiles: [ops]\n    depends_on: [db]\n  db:\n    image: x\n');
      const proj = await p.load({ services: ['migrate'] });
      expect(Object.keys(proj.services)).toEqual(['db', 'migrate']);
      const e = await rejection(p.load({ services: ['migrat'] }));
      expect(e.code).toBe('NO_SUCH_SERVICE');
      expect(e.hint).toMatch(/migrate/);
    });
  });
});

describe('env_file formats and signals', () => {
  it('format: raw takes values literally; unknown formats fail', async () => {
    await withProject(async (p) => {
      p.write('raw.env', '# c\nA="quoted"\nB=$HOME\n');
      p.write('compose.yaml', 'services:\n  web:\n    image: x\n    env_file:\n      - path: raw.env\n        format: raw\n');
      expect((await p.load({ env: { HOME: '/root' } })).services.web.environment).toEqual({ A: '"quoted"', B: '$HOME' });
      p.write('compose.yaml', 'services:\n  web:\n    image: x\n    env_file:\n      - path: raw.env\n        format: toml\n');
      expect((await rejection(p.load())).message).toMatch(/unknown env_file format "toml"/);
    });
  });

  it('stop_signal must name a signal', async () => {
    await withProject(async (p) => {
      p.write(
        'compose.yaml',
        'services:\n  a:\n    image: x\n    stop_signal: SIGQUIT\n  b:\n    image: x\n    stop_signal: "9"\n  c:\n    image: x\n    stop_signal: RTMIN+3\n',
      );
      expect((await p.load()).services.a.stop_signal).toBe('SIGQUIT');
      p.write('compose.yaml', 'services:\n  a:\n    image: x\n    stop_signal: SIGSTOPP\n');
      expect((await rejection(p.load())).message).toMatch(/services\.a\.stop_signal: unknown signal "SIGSTOPP"/);
    });
  });
});

describe('address checks', () => {
  it('rejects bad subnets, gateways, static addresses, host IPs and DNS servers with their position', async () => {
    await withProject(async (p) => {
      const cases: [string, RegExp][] = [
        [
          'services:\n  web:\n    image: x\nnetworks:\n  n:\n    ipam:\n      config:\n        - subnet: 172.28.0.0/33\n',
          /networks\.n\.ipam\.config\[0\]\.subnet: expected a subnet in CIDR/,
        ],
        [
          'services:\n  web:\n    image: x\nnetworks:\n  n:\n    ipam:\n      config:\n        - subnet: 172.28.0.0/16\n          gateway: fe80::1\n',
          /gateway: expected an IP address of the subnet's family \(IPv4\)/,
        ],
        [
          'services:\n  web:\n    image: x\n    networks:\n      n:\n        ipv4_address: 300.1.1.1\nnetworks:\n  n: {}\n',
          /services\.web\.networks\.n\.ipv4_address: expected an IPv4 address/,
        ],
        ['services:\n  web:\n    image: x\n    ports: ["localhost:80:80"]\n', /invalid host IP "localhost"/],
        ['services:\n  web:\n    image: x\n    dns: [dns.google]\n', /compose\.yaml:4:11: services\.web\.dns\[0\]: a DNS server must be an IP address/],
      ];
      for (const [text, re] of cases) {
        p.write('compose.yaml', text);
        expect((await rejection(p.load())).message).toMatch(re);
      }
      p.write(
        'compose.yaml',
        'services:\n  web:\n    image: x\n    networks:\n      n:\n        ipv4_address: 172.28.0.5\nnetworks:\n  n:\n    ipam:\n      config:\n        - subnet: 172.28.0.0/16\n          gateway: 172.28.0.1\n          ip_range: 172.28.5.0/24\n',
      );
      expect((await p.load()).services.web.networks.n?.ipv4_address).toBe('172.28.0.5');
    });
  });
});

describe('partly supported features warn', () => {
  it('network and volume drivers, ipv6, special mount types', async () => {
    await withProject(async (p) => {
      p.write(
        'compose.yaml',
        'services:\n  web:\n    image: x\n    networks: [o]\n    volumes:\n      - type: image\n        source: alpine\n        target: /img\n      - ./a:/a:z\nnetworks:\n  o:\n    driver: overlay\n    enable_ipv6: true\nvolumes:\n  v:\n    driver: nfs\n',
      );
      const w = (await p.load()).warnings.join('\n');
      expect(w).toMatch(/networks\.o\.driver "overlay" is not supported/);
      expect(w).toMatch(/networks\.o\.enable_ipv6/);
      expect(w).toMatch(/volumes\.v\.driver "nfs"/);
      expect(w).toMatch(/volumes\[0\]: mounts of type image/);
      expect(w).toMatch(/volumes\[1\]: SELinux relabeling/);
    });
  });
});

describe('tmpfs entries, exposed ports and capabilities', () => {
  it('parses tmpfs options and rejects bad ones', async () => {
    const { parseTmpfsEntry } = await import('../../../src/compose/index.js');
    expect(parseTmpfsEntry('/run')).toEqual({ target: '/run', options: [] });
    expect(parseTmpfsEntry('/run:size=64m,mode=1777,noexec,uid=1000')).toEqual({
      target: '/run',
      size: 64 * 1024 * 1024,
      mode: 0o1777,
      options: ['noexec', 'uid=1000'],
    });
    expect(parseTmpfsEntry('run')).toMatch(/absolute path/);
    expect(parseTmpfsEntry('/run:size=big')).toMatch(/invalid tmpfs size/);
    expect(parseTmpfsEntry('/run:bogus')).toMatch(/unknown tmpfs option/);
    await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  web:\n    image: x\n    tmpfs: ["/a", "/b:mode=9"]\n');
      expect((await rejection(p.load())).message).toMatch(/compose\.yaml:4:\d+: services\.web\.tmpfs\[1\]: invalid tmpfs mode/);
    });
  });

  it('checks exposed ports and capability names, suggesting the nearest capability', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  web:\n    image: x\n    expose: ["3000", "4000-4001/udp", 5000]\n    cap_add: [NET_ADMIN, cap_sys_time, ALL]\n');
      const web = (await p.load()).services.web;
      expect(web.expose).toEqual(['3000', '4000-4001/udp', '5000']);
      expect(web.cap_add).toEqual(['NET_ADMIN', 'cap_sys_time', 'ALL']);
      p.write('compose.yaml', 'services:\n  web:\n    image: x\n    cap_add: [NET_ADMN]\n');
      const e = await rejection(p.load());
      expect(e.message).toMatch(/services\.web\.cap_add\[0\]: unknown capability "NET_ADMN"/);
      expect(e.hint).toBe('did you mean "NET_ADMIN"?');
      p.write('compose.yaml', 'services:\n  web:\n    image: x\n    expose: ["http"]\n');
      expect((await rejection(p.load())).message).toMatch(/invalid exposed port "http"/);
    });
  });
});

describe('security_opt', () => {
  it('keeps the options; only options other than no-new-privileges and seccomp= warn', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  web:\n    image: x\n    security_opt: ["no-new-privileges:true"]\n');
      const proj = await p.load();
      expect(proj.services.web.unsupported.security_opt).toEqual(['no-new-privileges:true']);
      expect(proj.warnings).toEqual([]);
      p.write('compose.yaml', 'services:\n  web:\n    image: x\n    security_opt: [no-new-privileges, "seccomp:unconfined", seccomp=unconfined]\n');
      expect((await p.load()).warnings).toEqual([]);
      p.write('compose.yaml', 'services:\n  web:\n    image: x\n    security_opt: ["seccomp=unconfined", "apparmor=unconfined", "label=disable"]\n');
      expect((await p.load()).warnings.join('\n')).toMatch(/security_opt: "apparmor=unconfined", "label=disable" are not supported/);
      p.write('compose.yaml', 'services:\n  web:\n    image: x\n    security_opt: ["seccomp=/etc/profile.json"]\n');
      // a profile file is read when the container is made (src/apply/run-config.ts)
      expect((await p.load()).warnings).toEqual([]);
    });
  });
});

describe('names, separators and the project directory', () => {
  it('normalizes directory names as Compose does', async () => {
    const { normalizeProjectName } = await import('../../../src/compose/project-name.js');
    const { findCycle } = await import('../../../src/common/graph.js');
    expect(normalizeProjectName('My App.v2')).toBe('myappv2');
    expect(normalizeProjectName('_-Web_1')).toBe('web_1');
    expect(normalizeProjectName('###')).toBe('');
    expect(findCycle({ a: ['b'], b: ['c'], c: [] })).toBeUndefined();
    expect(findCycle({ z: ['y'], y: ['z'], a: ['a'] })).toEqual(['a', 'a']);
  });

  it('COMPOSE_PATH_SEPARATOR splits COMPOSE_FILE; --project-directory sets the base of relative paths and the .env', async () => {
    await withProject(async (p) => {
      p.write('a.yaml', 'services:\n  web:\n    image: ${IMG:-a}\n    volumes: ["./data:/data"]\n');
      p.write('b.yaml', 'services:\n  web:\n    environment: [X=1]\n');
      p.write('proj/.env', 'IMG=from-proj\n');
      expect((await p.load({ env: { COMPOSE_FILE: 'a.yaml;b.yaml', COMPOSE_PATH_SEPARATOR: ';' } })).services.web.environment).toEqual({ X: '1' });
      const proj = await p.load({ files: ['a.yaml', 'b.yaml'], projectDirectory: 'proj' });
      expect(proj.services.web.environment).toEqual({ X: '1' });
      expect(proj.workingDir).toBe(path.join(p.dir, 'proj'));
      expect(proj.services.web.volumes[0].source).toBe(path.join(p.dir, 'proj/data'));
      expect(proj.services.web.image).toBe('from-proj');
      expect(proj.name).toBe('proj');
    });
  });
});

describe('YAML tags', () => {
  it('an unknown tag is an error with a suggestion; standard !! tags work', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  web:\n    image: x\n    ports: !overide ["80:80"]\n');
      const e = await rejection(p.load());
      expect(e.code).toBe('SPEC_PARSE');
      expect(e.message).toMatch(/compose\.yaml:4:\d+: unknown YAML tag !overide/);
      expect(e.hint).toBe('did you mean !override?');
      p.write('compose.yaml', 'services:\n  web:\n    image: !!str x\n    environment:\n      N: !!str 5\n');
      expect((await p.load()).services.web.environment).toEqual({ N: '5' });
    });
  });
});

describe('service_healthy without a healthcheck', () => {
  it('warns when the dependency declares none or disables it', async () => {
    await withProject(async (p) => {
      p.write(
        'compose.yaml',
        'services:\n  web:\n    image: x\n    depends_on:\n      db: {condition: service_healthy}\n      cache: {condition: service_healthy}\n  db:\n    image: x\n  cache:\n    image: x\n    healthcheck: {disable: true}\n',
      );
      const w = (await p.load()).warnings.join('\n');
      expect(w).toMatch(/"db" to be healthy, but db declares no healthcheck/);
      expect(w).toMatch(/"cache" to be healthy, but cache's healthcheck is disabled/);
    });
  });
});
