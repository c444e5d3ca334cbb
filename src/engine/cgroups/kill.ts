/** Killing every process of one or more cgroups without letting a fork escape. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerCgroup } from './cgroup.js';
import { cgErr, readOr } from './files.js';

/**
 * SIGKILLs every member of every cgroup given and waits until all of them are empty, freezing
 * first like ContainerCgroup.killAll. Empty cgroups are skipped: nothing can fork in them.
 *
 * On v1, all the freezes happen before any thaw. Whether any cgroup on the machine is frozen is
 * a kernel static key, and each freeze or thaw that flips it patches kernel text (~5 ms on the
 * project's machine): freezing and thawing 30 cgroups one after the other costs 60 flips
 * (0.3 s), overlapping them costs 2.
 */
export async function killCgroups(cgs: ContainerCgroup[], timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const busy = cgs.filter((cg) => cg.exists() && !cg.isEmpty());
  if (busy.length === 0) return;
  const frozen: string[] = [];
  let thawFailure: unknown;
  try {
    for (const cg of busy) {
      const k = cg.startKill();
      if (k.frozen) frozen.push(k.frozen);
    }
    for (const fz of frozen) {
      while (readOr(path.join(fz, 'freezer.state')).trim() !== 'FROZEN' && Date.now() < deadline) await sleep(5);
    }
    for (const cg of busy) cg.signalAll('SIGKILL');
  } finally {
    // thaw all even when one fails (its processes would stay frozen with their SIGKILL pending)
    for (const fz of frozen) {
      try {
        writeFileSync(path.join(fz, 'freezer.state'), 'THAWED');
      } catch (e) {
        thawFailure ??= cgErr(`cannot thaw ${fz}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, e);
      }
    }
  }
  // reached only when the freeze and kill went through: their own error wins over a thaw failure
  if (thawFailure) throw thawFailure;
  for (const cg of busy) {
    while (!cg.isEmpty()) {
      if (Date.now() > deadline) {
        throw cgErr(`cgroup ${cg.relPath} still has processes ${cg.pids().join(', ')} after SIGKILL`);
      }
      cg.signalAll('SIGKILL');
      await sleep(10);
    }
  }
}
