/**
 * Fault injection (src/sys/fault.ts) in `pull` from a registry and in `build`: tscompose
 * SIGKILLs itself right after the K-th kernel- or state-changing step, or the K-th image/state
 * write fails with ENOSPC. After each, the next `pull` / `build` must succeed with the image id
 * of a clean run and leave exactly what a clean run leaves (test/support/leaks.ts: no temporary
 * blob, layer or index file, no build scratch dir, link, netns, mount, cgroup or rule of the
 * killed build), and removing the image must leave what was there before.
 *
 * The registry is a local docker-registry on 127.0.0.1 (test/support/registry.ts); the pulled
 * image has three layers (test/support/images.ts); the build is a RUN (network default: its own
 * bridge, netns and firewall rules) and a COPY on the busybox test image, without cache.
 * CI visits every FAULT_STRIDE-th K (default 6, plus the first and last); scripts/fault-sweep.sh
 * every K. FAULT_REPORT=file writes the K values visited and the step each one killed.
 */
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CliProject, type RunResult } from '../../support/cli.js';
import { runWithFault, stepsOf, sweep, isCleanError, SweepRun, type FaultRun } from '../../support/faults.js';
import { archiveOf, buildThreeLayer } from '../../support/images.js';
import { describeLeaks, snapshot, withoutHostWide, type Snapshot } from '../../support/leaks.js';
import { startRegistry, type TestRegistry } from '../../support/registry.js';

const STRIDE = Number(process.env.FAULT_STRIDE ?? 6);
const SAMPLE = Math.max(STRIDE, Number(process.env.FAULT_SAMPLE_STRIDE ?? STRIDE * 3));

let reg: TestRegistry;
let tmp: string;
/** the registry reference of the three-layer image */
let remote: string;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'tsc-faults-images-'));
  reg = await startRegistry();
  remote = `${reg.host}/faults/layered:1`;
  const seed = new CliProject('services: {}\n');
  buildThreeLayer(path.join(tmp, 'layered'));
  const archive = archiveOf(path.join(tmp, 'layered'));
  must(await seed.run(['image', 'load', '-i', archive]), 'loading the three-layer image');
  must(await seed.run(['image', 'tag', 'layered', remote]), 'tagging it');
  must(await seed.run(['image', 'push', remote]), 'pushing it');
  await seed.cleanup();
}, 180_000);

afterAll(async () => {
  await reg?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function report(line: string): void {
  console.log(line);
  if (process.env.FAULT_REPORT) appendFileSync(process.env.FAULT_REPORT, line + '\n');
}

function must(r: RunResult, what: string): RunResult {
  if (r.code !== 0) throw new Error(`${what}: exited ${r.code}\n${r.stderr.slice(-2000)}`);
  return r;
}

/** The `build.<hex>` names a build's steps mention (its cgroups, bridge owner, netns). */
function buildNames(r: FaultRun): string[] {
  return [...new Set(r.steps.join('\n').match(/build\.[0-9a-f]+/g) ?? [])];
}

/** A snapshot of the test's own objects (test/support/leaks.ts). */
function ours(scope: { roots: string[]; projects: string[] }): Snapshot {
  return withoutHostWide(snapshot(scope));
}

async function imageId(p: CliProject, ref: string): Promise<string> {
  const [rec] = JSON.parse(must(await p.run(['image', 'inspect', ref]), `inspecting ${ref}`).stdout) as Array<{ id: string }>;
  return rec.id;
}

describe('fault injection in pull and build', () => {
  /**
   * For every K: a clean start (`image rm`), the verb with `fault`, then the verb again: same
   * image id as a clean run, same files and kernel objects; `image rm` gives back the baseline.
   */
  async function faultSweep(opts: {
    p: CliProject;
    verb: string[];
    ref: string;
    kind: 'step' | 'write';
    stride: number;
    extraScope?: (r: FaultRun) => string[];
  }): Promise<void> {
    const { p, verb, ref } = opts;
    const scope = (extra: string[] = []) => ({ roots: [p.root], projects: [p.name, ...extra] });
    const remove = async (what: string) => must(await p.run(['image', 'rm', '-f', ref]), `${what}: image rm`);
    // a first clean run makes what persists by design (the network registries of a build)
    must(await p.run(verb), 'warm-up');
    await remove('warm-up');
    const baseline = ours(scope());
    const traced = await runWithFault(p, verb, 'trace');
    must(traced, 'traced run');
    const cleanId = await imageId(p, ref);
    const reference = ours(scope());
    await remove('traced run');
    const steps = stepsOf(traced.steps, opts.kind);
    const name = `${verb.join(' ')} ${opts.kind === 'step' ? 'killed after step' : 'with ENOSPC at write'}`;
    report(`fault: ${verb.join(' ')} has ${steps.length} ${opts.kind}s`);
    steps.forEach((s, i) => report(`fault:   ${opts.kind} ${i + 1}: ${s}`));
    const run = new SweepRun(report, async () => {
      await p.run(verb);
      await p.run(['image', 'rm', '-f', ref]);
    });
    for (const k of sweep(steps.length, opts.stride)) {
      await run.attempt(`${name} ${k}`, async () => {
        const r = await runWithFault(p, verb, opts.kind === 'step' ? `kill-after:${k}` : `enospc-at:${k}`);
        const step = stepsOf(r.steps, opts.kind)[k - 1];
        const what = `${name} ${k} (${step})`;
        report(`fault: ${what}: exit ${r.code}${opts.kind === 'write' ? ` ${r.stderr.trim().split('\n').at(-1) ?? ''}` : ''}`);
        if (opts.kind === 'write' && r.code !== 0) {
          expect(isCleanError(r), `${what}:\n${r.stderr}`).toBe(true);
          // DISK_FULL's message and hint, whichever step hit it
          expect(r.stderr, what).toMatch(/no space left[^]*\nhint: free/);
        }
        const extra = opts.extraScope?.(r) ?? [];
        must(await p.run(verb), `${what}: the next run`);
        expect(await imageId(p, ref), `${what}: the image id`).toBe(cleanId);
        expect(describeLeaks(reference, ours(scope(extra)), { exact: true }), `${what}: after the next run`).toBe('');
        await remove(what);
        expect(describeLeaks(baseline, ours(scope(extra)), { exact: true }), `${what}: after image rm`).toBe('');
      });
    }
    expect(run.failures()).toEqual([]);
  }

  function pullProject(): CliProject {
    // no busybox loaded: every layer comes from the registry
    return new CliProject(`services:\n  app:\n    image: ${remote}\n`);
  }

  function buildProject(): Promise<CliProject> {
    return CliProject.create(
      ['services:', '  app:', '    image: faults-built:1', '    build:', '      context: ./ctx', '      network: default', ''].join('\n'),
      {
        'ctx/Dockerfile': 'FROM busybox\nRUN echo ran > /ran && mkdir -p /made/here\nCOPY f.txt /made/f.txt\n',
        'ctx/f.txt': 'copied\n',
      },
    );
  }

  test('a kill after any step of pull: the next pull gives the same image and leaves nothing else', async () => {
    await faultSweep({ p: pullProject(), verb: ['pull'], ref: remote, kind: 'step', stride: STRIDE });
  }, 3_600_000);

  test('ENOSPC at any write of pull: a clear error, then pull converges', async () => {
    await faultSweep({ p: pullProject(), verb: ['pull'], ref: remote, kind: 'write', stride: STRIDE });
  }, 3_600_000);

  test('a kill after any step of build: the next build gives the same image and leaves nothing else', async () => {
    await faultSweep({ p: await buildProject(), verb: ['build', '--no-cache'], ref: 'faults-built:1', kind: 'step', stride: STRIDE, extraScope: buildNames });
  }, 3_600_000);

  test('ENOSPC at sampled writes of build: a clear error, then build converges', async () => {
    await faultSweep({ p: await buildProject(), verb: ['build', '--no-cache'], ref: 'faults-built:1', kind: 'write', stride: SAMPLE, extraScope: buildNames });
  }, 3_600_000);
});
