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
