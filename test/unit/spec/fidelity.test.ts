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
          "    entrypoint: [\"awk\", \"{print $0}\"]",
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
      p.write('compose.yaml', 'services:\n  web:\n    image: busybox\n    volumes:\n      - ./html:/var/www/html/\n      - type: volume\n        source: data\n        target: /data//x/../y/\nvolumes:\n  data: {}\n');
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
      expect(e.message).toMatch(/compose\.yaml:4:5: services\.web\.platform: platform "linux\/arm64" of service "web" is not among its build\.platforms \(linux\/amd64\)/);
      p.write('compose.yaml', 'services:\n  web:\n    image: x\n    platform: linux/amd64\n    build:\n      context: .\n      platforms: [linux/amd64, linux/arm64]\n');
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
      expect((await p.load({ env: { FILE: './a' } }).catch(() => undefined))).toBeUndefined();
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
