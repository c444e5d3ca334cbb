/** `tscompose push` (Compose's: each service's image) and `image tag|push`, run as a user runs them. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliProject } from '../../support/cli.js';
import { startRegistry, type TestRegistry } from '../../support/registry.js';

let reg: TestRegistry;

beforeAll(async () => {
  reg = await startRegistry();
});

afterAll(async () => {
  await reg?.stop();
});

describe('tscompose push', () => {
  it('pushes the image of each service that has one, skips the others, and reports failures', async () => {
    const app = `${reg.host}/proj/app:1`;
    const missing = `${reg.host}/proj/missing:1`;
    const p = await CliProject.create(
      [
        'services:',
        '  app:',
        `    image: ${app}`,
        '  alias:',
        `    image: ${app}`,
        '  built:',
        '    build: ./ctx',
        '  gone:',
        `    image: ${missing}`,
        '',
      ].join('\n'),
      { 'ctx/Dockerfile': 'FROM busybox\n' },
    );
    await p.ok(['image', 'tag', 'busybox', app]);

    const failed = await p.run(['push']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(new RegExp(`pushing image "${missing.replace(/[.]/g, '\\.')}" for service gone: an image does not exist locally`));

    const ok = await p.ok(['push', '--ignore-push-failures', '-q', 'app', 'gone']);
    expect(ok.stderr).toMatch(/warning: pushing image .*missing:1/);

    // image push by hand: every blob is there already
    const out = await p.ok(['image', 'push', app]);
    expect(out.stdout).toMatch(new RegExp(`proj/app:1: digest: sha256:[a-f0-9]{64} size: \\d+`));
  });
});
