/** `build:` in the model: Compose's short and long forms, paths, args from the environment, config output. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { renderConfig } from '../../../src/compose/index.js';
import { withProject } from './helpers.js';

describe('build section', () => {
  it('a string is the context, resolved against the project directory, with the default Dockerfile', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  app:\n    build: ./app\n');
      const proj = await p.load();
      expect(proj.services.app!.build).toEqual({ context: path.join(p.dir, 'app'), dockerfile: 'Dockerfile' });
      expect(proj.services.app!.image).toBeUndefined();
      expect(proj.warnings).toEqual([]);
    });
  });

  it('the long form: relative context, dockerfile kept relative to it, args list or map, labels, tags, sizes and booleans typed', async () => {
    await withProject(async (p) => {
      p.write(
        'compose.yaml',
        [
          'services:',
          '  app:',
          '    image: example/app:1',
          '    build:',
          '      context: src',
          '      dockerfile: ../docker/Dockerfile.app',
          '      args: [FROM_ENV, FROM_DOTENV, UNSET_ARG, "PLAIN=1", "EMPTY="]',
          '      labels: [com.example.a=1]',
          '      target: prod',
          '      tags: ["example/app:latest", "registry.local/app:1"]',
          '      shm_size: 128m',
          '      no_cache: "true"',
          '      pull: false',
          '      network: none',
          '      additional_contexts: [assets=./assets, img=docker-image://busybox]',
          '  other:',
          '    build:',
          '      args: {A: 1, B: null}',
        ].join('\n') + '\n',
      );
      p.write('.env', 'FROM_DOTENV=dot\n');
      const proj = await p.load({ env: { FROM_ENV: 'shell', B: 'bee' } });
      expect(proj.services.app!.build).toEqual({
        context: path.join(p.dir, 'src'),
        dockerfile: '../docker/Dockerfile.app',
        args: { FROM_ENV: 'shell', FROM_DOTENV: 'dot', UNSET_ARG: null, PLAIN: '1', EMPTY: '' },
        labels: { 'com.example.a': '1' },
        target: 'prod',
        tags: ['example/app:latest', 'registry.local/app:1'],
        shm_size: 128 * 1024 * 1024,
        no_cache: true,
        pull: false,
        network: 'none',
        additional_contexts: { assets: path.join(p.dir, 'assets'), img: 'docker-image://busybox' },
      });
      expect(proj.services.other!.build).toEqual({ context: p.dir, dockerfile: 'Dockerfile', args: { A: '1', B: 'bee' } });
      const printed = JSON.parse(renderConfig(proj, 'json')).services.app.build;
      expect(printed.shm_size).toBe(String(128 * 1024 * 1024));
      expect(printed.args.UNSET_ARG).toBeNull();
    });
  });

  it('dockerfile_inline has no default dockerfile, and both together are an error', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  app:\n    build:\n      dockerfile_inline: |\n        FROM busybox\n        RUN true\n');
      const proj = await p.load();
      expect(proj.services.app!.build).toEqual({ context: p.dir, dockerfile_inline: 'FROM busybox\nRUN true\n' });
      p.write('compose.yaml', 'services:\n  app:\n    build:\n      dockerfile: Dockerfile\n      dockerfile_inline: FROM busybox\n');
      await expect(p.load()).rejects.toThrow(/sets both build\.dockerfile and build\.dockerfile_inline/);
    });
  });

  it('remote contexts are kept as written (refused only when a build is asked for)', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  a:\n    build: https://github.com/example/app.git#main\n  b:\n    build: git@github.com:example/app.git\n');
      const proj = await p.load();
      expect(proj.services.a!.build!.context).toBe('https://github.com/example/app.git#main');
      expect(proj.services.b!.build!.context).toBe('git@github.com:example/app.git');
    });
  });

  it('an override file changes the merged build section, and extends resolves against the declaring file', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  app:\n    build:\n      context: .\n      args: {A: one}\n');
      p.write('compose.override.yaml', 'services:\n  app:\n    build:\n      args: {B: two}\n      target: dev\n');
      p.write('sub/base.yaml', 'services:\n  base:\n    build: ./ctx\n');
      p.write('more.yaml', 'services:\n  child:\n    extends: {file: sub/base.yaml, service: base}\n');
      const proj = await p.load();
      expect(proj.services.app!.build).toEqual({ context: p.dir, dockerfile: 'Dockerfile', args: { A: 'one', B: 'two' }, target: 'dev' });
      const more = await p.load({ files: [path.join(p.dir, 'more.yaml')] });
      expect(more.services.child!.build!.context).toBe(path.join(p.dir, 'sub/ctx'));
    });
  });
});
