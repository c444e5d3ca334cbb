/** The command line of building: `build`'s flags, `up --build/--no-build`, `run --build`, and the plain progress lines. */
import { Command } from 'commander';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';

import { PlainBuildReporter, eventLines } from '../../../src/cli/build-progress.js';
import { registerBuild } from '../../../src/cli/commands/build.js';
import { registerRun } from '../../../src/cli/commands/run.js';
import { registerUp } from '../../../src/cli/commands/up.js';
import { buildModeFrom } from '../../../src/cli/images.js';

/** The options and arguments commander gives the action of `argv`, without running it. */
async function parsed(register: (p: Command) => void, argv: string[]): Promise<{ opts: Record<string, unknown>; args: unknown[] }> {
  const program = new Command().exitOverride().enablePositionalOptions();
  register(program);
  let out: { opts: Record<string, unknown>; args: unknown[] } | undefined;
  program.hook('preAction', (_top, action) => {
    out = { opts: action.opts(), args: action.processedArgs };
    throw new Error('stop');
  });
  await program.parseAsync(argv, { from: 'user' }).catch((e: Error) => {
    if (e.message !== 'stop') throw e;
  });
  return out!;
}

describe('build flags', () => {
  it('build [SERVICE...] --no-cache --pull -q --build-arg (repeatable)', async () => {
    const r = await parsed(registerBuild, ['build', 'web', 'api', '--no-cache', '--pull', '-q', '--build-arg', 'A=1', '--build-arg', 'B']);
    expect(r.args).toEqual([['web', 'api']]);
    expect(r.opts).toMatchObject({ cache: false, pull: true, quiet: true, buildArg: ['A=1', 'B'] });
    const d = await parsed(registerBuild, ['build']);
    expect(d.opts).toMatchObject({ cache: true });
    expect(d.opts.pull).toBeUndefined();
  });

  it('up --build / --no-build / neither, and run --build, give the build mode', async () => {
    expect(buildModeFrom((await parsed(registerUp, ['up', '--build'])).opts)).toBe('always');
    expect(buildModeFrom((await parsed(registerUp, ['up', '--no-build', '-d'])).opts)).toBe('never');
    expect(buildModeFrom((await parsed(registerUp, ['up'])).opts)).toBe('missing');
    expect(buildModeFrom((await parsed(registerRun, ['run', '--build', 'web', 'true'])).opts)).toBe('always');
    expect(buildModeFrom((await parsed(registerRun, ['run', 'web'])).opts)).toBe('missing');
  });

  it('up/create --build --no-build is a usage error, before the project is loaded', async () => {
    const program = new Command().exitOverride();
    registerUp(program);
    for (const verb of ['up', 'create']) {
      await expect(program.parseAsync([verb, '--build', '--no-build'], { from: 'user' })).rejects.toMatchObject({
        code: 'USAGE',
        message: '--build and --no-build are incompatible',
      });
    }
    expect(buildModeFrom((await parsed(registerUp, ['create', '--build', 'web'])).opts)).toBe('always');
  });
});

describe('plain build progress', () => {
  it('prefixes every line with the service: step, RUN output, time, CACHED', () => {
    const out = new PassThrough();
    const r = new PlainBuildReporter(out);
    r.begin('web', 'proj-web');
    r.event('web', { kind: 'step-start', step: 2, total: 3, stage: 'stage-0', text: 'RUN make', line: 2 });
    r.event('web', { kind: 'step-output', step: 2, line: 'cc -o app main.c' });
    r.event('web', { kind: 'step-done', step: 2, cached: false, ms: 1234 });
    r.event('web', { kind: 'step-start', step: 3, total: 3, stage: 'build', text: 'COPY . /src', line: 3 });
    r.event('web', { kind: 'step-done', step: 3, cached: true, ms: 0 });
    expect(String(out.read())).toBe(
      [
        'web  Building proj-web',
        'web  #2 [2/3] RUN make',
        'web  #2 cc -o app main.c',
        'web  #2 DONE 1.2s',
        'web  #3 [build 3/3] COPY . /src',
        'web  #3 CACHED',
        '',
      ].join('\n'),
    );
    expect(eventLines({ kind: 'done', imageId: 'sha256:x', ms: 1 })).toEqual([]);
  });
});
