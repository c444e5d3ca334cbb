/**
 * Soak: N up/down cycles of a small stack, each with a recreate (a config change), a scale up and
 * down, `run --rm`, `exec`, and every SOAK_KILL_EVERY cycles a SIGKILLed supervisor (then `up`
 * must adopt the running containers: same ids, no duplicate). After each cycle's `down -v` the
 * leak counter (test/support/leaks.ts) must find exactly what it found after the first cycle:
 * zero growth of links, netns, mounts, cgroups, firewall rules, processes and state files.
 *
 * CI runs SOAK_CYCLES (default 30, a killed supervisor every 10th); scripts/soak.sh N runs N and prints one line
 * per cycle; SOAK_REPORT=file writes the figures as JSON.
 */
import { writeFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { CliProject } from '../../support/cli.js';
import { CATEGORIES, counts, describeLeaks, snapshot, type Snapshot } from '../../support/leaks.js';

const EMPTY: Snapshot = { items: Object.fromEntries(CATEGORIES.map((k) => [k, []])), supervisors: {} };
const CYCLES = Number(process.env.SOAK_CYCLES ?? 30);
const KILL_EVERY = Number(process.env.SOAK_KILL_EVERY ?? (CYCLES >= 50 ? 50 : 10));

const compose = (cycle: number) => `
services:
  web:
    image: busybox
    command: ["sh", "-c", "echo started; exec sleep 1000"]
    stop_signal: SIGKILL
    environment:
      CYCLE: "${cycle}"
    volumes: [/data]
  worker:
    image: busybox
    command: ["sleep", "1000"]
    stop_signal: SIGKILL
`;

interface Row {
  cycle: number;
  seconds: number;
  counts: Record<string, number>;
  supervisor?: { fdsStart: number; fdsEnd: number; rssKiB: number };
}

function supervisorStats(p: CliProject): { pid: number; fds: number; rssKiB: number } {
  const snap = snapshot({ roots: [p.root], projects: [p.name] });
  const [pid, s] = Object.entries(snap.supervisors)[0] ?? [];
  if (!pid || !s) throw new Error('no supervisor is running');
  return { pid: Number(pid), ...s };
}

test(
  `soak: ${CYCLES} cycles of up, recreate, scale, run --rm, exec, down leave nothing behind`,
  async () => {
    const p = await CliProject.create(compose(0));
    const scope = { roots: [p.root], projects: [p.name] };
    const rows: Row[] = [];
    let baseline: Snapshot | undefined;
    let peakRss = 0;
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const t0 = Date.now();
      p.write('compose.yaml', compose(cycle));
      await p.ok(['up', '-d']);
      const first = supervisorStats(p);
      // recreate: the environment changed since the previous up
      p.write('compose.yaml', compose(cycle + 100_000));
      await p.ok(['up', '-d']);
      await p.ok(['up', '-d', '--scale', 'worker=3']);
      await p.ok(['up', '-d', '--scale', 'worker=1']);
      expect((await p.ok(['run', '--rm', 'worker', 'echo', `run-${cycle}`])).stdout).toContain(`run-${cycle}`);
      expect((await p.ok(['exec', 'web', 'sh', '-c', 'echo $CYCLE'])).stdout.trim()).toBe(String(cycle + 100_000));
      if (cycle % KILL_EVERY === 0) {
        const before = await p.ps();
        process.kill(first.pid, 'SIGKILL');
        await p.ok(['up', '-d']);
        const after = await p.ps();
        // adopted, not recreated: the same containers, each once, still running
        expect(after.map((c) => `${String(c.ID)} ${String(c.State)}`).sort()).toEqual(before.map((c) => `${String(c.ID)} ${String(c.State)}`).sort());
      }
      const ps = await p.ps();
      expect(ps.map((c) => String(c.Name)).sort()).toEqual([`${p.name}-web-1`, `${p.name}-worker-1`]);
      const last = supervisorStats(p);
      peakRss = Math.max(peakRss, first.rssKiB, last.rssKiB);
      await p.ok(['down', '-v', '-t', '0']);
      // right after down: it returns once the supervisor's process is gone
      const snap = snapshot(scope);
      const leaks = describeLeaks(baseline ?? EMPTY, snap, { only: baseline ? undefined : ['processes'] });
      const row: Row = { cycle, seconds: (Date.now() - t0) / 1000, counts: counts(snap) };
      if (first.pid === last.pid) row.supervisor = { fdsStart: first.fds, fdsEnd: last.fds, rssKiB: last.rssKiB };
      rows.push(row);
      console.log(`soak cycle ${cycle}: ${row.seconds.toFixed(1)} s ${JSON.stringify(row.counts)} supervisor ${JSON.stringify(row.supervisor ?? 'restarted')}`);
      // the first cycle creates what persists by design (the network registries); none after it
      expect(leaks, `after cycle ${cycle}`).toBe('');
      baseline ??= snap;
    }
    const fdGrowth = Math.max(0, ...rows.map((r) => (r.supervisor ? r.supervisor.fdsEnd - r.supervisor.fdsStart : 0)));
    const summary = {
      cycles: CYCLES,
      killEvery: KILL_EVERY,
      peakSupervisorRssKiB: peakRss,
      maxSupervisorFdGrowthInCycle: fdGrowth,
      final: rows.at(-1)?.counts,
      rows,
    };
    if (process.env.SOAK_REPORT) writeFileSync(process.env.SOAK_REPORT, JSON.stringify(summary, null, 1) + '\n');
    console.log(`soak: ${CYCLES} cycles, peak supervisor RSS ${peakRss} KiB, max fd growth within a cycle ${fdGrowth}`);
    // a supervisor serving recreate, scale, run and exec must not keep descriptors
    expect(fdGrowth).toBeLessThanOrEqual(2);
  },
  Math.max(120_000, CYCLES * 60_000),
);
