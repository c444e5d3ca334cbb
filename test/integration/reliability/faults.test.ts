/**
 * Fault injection at every step (src/sys/fault.ts): tscompose SIGKILLs itself right after the
 * K-th kernel- or state-changing step of `up`, `down`, `run`; or the K-th state/log write fails
 * with ENOSPC. After each, `up` must converge (each service's container once, running, and the
 * same links, netns, mounts, cgroups, rules and processes as a clean `up`) and `down -v` must
 * leave exactly what a clean `down -v` leaves (test/support/leaks.ts).
 *
 * CI visits every FAULT_STRIDE-th K (default 6, plus the first and last step) of `up` and `down`
 * and fewer of `run` and ENOSPC; scripts/fault-sweep.sh sets FAULT_STRIDE=1 for every K.
 * FAULT_REPORT=file writes the K values visited and the step each one killed.
 */
import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { runWithFault, stepsOf, sweep, isCleanError, SweepRun } from '../../support/faults.js';
import { CliProject, type RunResult } from '../../support/cli.js';
import { describeLeaks, snapshot, withoutHostWide, type Snapshot } from '../../support/leaks.js';

const STRIDE = Number(process.env.FAULT_STRIDE ?? 6);
const SAMPLE = Math.max(STRIDE, Number(process.env.FAULT_SAMPLE_STRIDE ?? STRIDE * 3));

const STACK = `
services:
  web:
    image: busybox
    command: ["sh", "-c", "echo started; exec sleep 1000"]
    stop_signal: SIGKILL
    volumes: [/data]
  db:
    image: busybox
    command: ["sleep", "1000"]
    stop_signal: SIGKILL
`;

function report(line: string): void {
  console.log(line);
  if (process.env.FAULT_REPORT) appendFileSync(process.env.FAULT_REPORT, line + '\n');
}

/** The kernel's view only (files differ legitimately between two runs: logs, rotated files). */
function kernel(s: Snapshot): Snapshot {
  return { ...s, items: { ...s.items, files: s.items.files.filter((f) => f.endsWith('.tmp')) } };
}

function must(r: RunResult, what: string): void {
  if (r.code !== 0) throw new Error(`${what}: exited ${r.code}\n${r.stderr.slice(-2000)}`);
}

describe('fault injection', () => {
  let p: CliProject;
  let reference: Snapshot;
  let baseline: Snapshot;
  const scope = () => ({ roots: [p.root], projects: [p.name] });

  /** `up -d` after a fault: it succeeds and the project looks exactly like after a clean up. */
  async function converges(what: string): Promise<void> {
    must(await p.run(['up', '-d']), `${what}: the next up`);
    const ps = await p.ps();
    expect(ps.map((c) => `${String(c.Name)} ${String(c.State)}`).sort(), what).toEqual([`${p.name}-db-1 running`, `${p.name}-web-1 running`]);
    expect(describeLeaks(kernel(reference), kernel(withoutHostWide(snapshot(scope()))), { exact: true }), `${what}: after the next up`).toBe('');
  }

  /** `down -v` after a fault leaves what a clean one leaves. */
  async function cleanDown(what: string): Promise<void> {
    must(await p.run(['down', '-v', '-t', '0']), `${what}: the next down`);
    // at once: down returns when nothing of the project runs any more, its supervisor included
    expect(describeLeaks(baseline, withoutHostWide(snapshot(scope()))), `${what}: after down`).toBe('');
  }

  /** Keeps a full sweep going past a failing K (FAULT_KEEP_GOING=1): a forced down, then on. */
  const sweepRun = () => new SweepRun(report, async () => void (await p.run(['down', '-v', '-t', '0', '--remove-orphans'])));

  // each test its own project: the suite's afterEach brings down every project a test made
  async function prepare(): Promise<void> {
    p = await CliProject.create(STACK);
    // a first cycle creates what persists by design (the network registries)
    must(await p.run(['up', '-d']), 'warm-up up');
    must(await p.run(['down', '-v', '-t', '0']), 'warm-up down');
    baseline = withoutHostWide(snapshot(scope()));
    must(await p.run(['up', '-d']), 'reference up');
    reference = withoutHostWide(snapshot(scope()));
    must(await p.run(['down', '-v', '-t', '0']), 'reference down');
  }

  test('a kill after any step of up or down: up converges, down leaves nothing', async () => {
    await prepare();
    const upSteps = stepsOf((await runWithFault(p, ['up', '-d'], 'trace')).steps, 'step');
    const downSteps = stepsOf((await runWithFault(p, ['down', '-v', '-t', '0'], 'trace')).steps, 'step');
    report(`fault: up has ${upSteps.length} steps, down ${downSteps.length}`);
    const run = sweepRun();
    for (const k of sweep(Math.max(upSteps.length, downSteps.length), STRIDE)) {
      await run.attempt(`up/down K=${k}`, async () => {
        if (k <= upSteps.length) {
          const r = await runWithFault(p, ['up', '-d'], `kill-after:${k}`);
          const step = stepsOf(r.steps, 'step')[k - 1];
          report(`fault: up killed after step ${k} (${step}): exit ${r.code}`);
          await converges(`up killed after step ${k} (${step})`);
        } else {
          must(await p.run(['up', '-d']), 'up');
        }
        if (k <= downSteps.length) {
          const r = await runWithFault(p, ['down', '-v', '-t', '0'], `kill-after:${k}`);
          const step = stepsOf(r.steps, 'step')[k - 1];
          report(`fault: down killed after step ${k} (${step}): exit ${r.code}`);
          await converges(`down killed after step ${k} (${step})`);
        }
        await cleanDown(`step ${k}`);
      });
    }
    expect(run.failures()).toEqual([]);
  }, 3_600_000);

  test('a kill after sampled steps of run --rm: down leaves nothing', async () => {
    await prepare();
    const runSteps = stepsOf((await runWithFault(p, ['run', '--rm', 'web', 'echo', 'hi'], 'trace')).steps, 'step');
    await cleanDown('traced run');
    report(`fault: run --rm has ${runSteps.length} steps`);
    const run = sweepRun();
    for (const k of sweep(runSteps.length, SAMPLE)) {
      await run.attempt(`run --rm K=${k}`, async () => {
        const r = await runWithFault(p, ['run', '--rm', 'web', 'echo', 'hi'], `kill-after:${k}`);
        report(`fault: run killed after step ${k} (${stepsOf(r.steps, 'step')[k - 1]}): exit ${r.code}`);
        must(await p.run(['up', '-d']), `run killed after step ${k}: the next up`);
        const services = (await p.ps()).filter((c) => /-(web|db)-\d+$/.test(String(c.Name))).map((c) => String(c.Name));
        expect(services.sort(), `run killed after step ${k}`).toEqual([`${p.name}-db-1`, `${p.name}-web-1`]);
        await cleanDown(`run killed after step ${k}`);
      });
    }
    expect(run.failures()).toEqual([]);
  }, 3_600_000);

  /** Each container's state as its status.json on disk says. */
  function recordedStates(): string[] {
    const dir = path.join(p.root, 'projects', p.name, 'containers');
    return readdirSync(dir)
      .filter((c) => existsSync(path.join(dir, c, 'status.json')))
      .map((c) => `${c} ${(JSON.parse(readFileSync(path.join(dir, c, 'status.json'), 'utf8')) as { state: string }).state}`)
      .sort();
  }

  test('ENOSPC at sampled state and log writes of up (every supervisor record): a clear error, then up converges', async () => {
    await prepare();
    const writes = stepsOf((await runWithFault(p, ['up', '-d'], 'trace')).steps, 'write');
    await cleanDown('traced up');
    report(`fault: up has ${writes.length} writes`);
    const run = sweepRun();
    // the supervisor's records too, whatever the stride: a full disk there was once swallowed
    const records = writes.flatMap((w, i) => (/\/(status|supervised|run)\.json$/.test(w) ? [i + 1] : []));
    for (const k of [...new Set([...sweep(writes.length, SAMPLE), ...records])].sort((a, b) => a - b)) {
      await run.attempt(`ENOSPC K=${k}`, async () => {
        const r = await runWithFault(p, ['up', '-d'], `enospc-at:${k}`);
        const target = stepsOf(r.steps, 'write')[k - 1];
        report(`fault: up with ENOSPC at write ${k} (${target}): exit ${r.code} ${r.stderr.trim().split('\n').at(-1) ?? ''}`);
        if (r.code !== 0) expect(isCleanError(r), `ENOSPC at write ${k} (${target}):\n${r.stderr}`).toBe(true);
        // a success means what it says: the records on disk have the containers running
        else expect(recordedStates(), `ENOSPC at write ${k} (${target}), up exited 0`).toEqual([`${p.name}-db-1 running`, `${p.name}-web-1 running`]);
        await converges(`ENOSPC at write ${k} (${target})`);
        expect(recordedStates(), `ENOSPC at write ${k} (${target}): after the next up`).toEqual([`${p.name}-db-1 running`, `${p.name}-web-1 running`]);
        await cleanDown(`ENOSPC at write ${k}`);
      });
    }
    expect(run.failures()).toEqual([]);
  }, 3_600_000);
});
