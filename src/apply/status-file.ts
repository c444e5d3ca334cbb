import { readFileSync } from 'node:fs';
import { processAlive } from '../engine/index.js';
import { bundleFiles } from '../supervisor/paths.js';
import type { ContainerStatus } from '../supervisor/types.js';

/**
 * A container's status as its bundle's status file says (the supervisor writes it on every
 * change), for when no supervisor answers: one that claims a live process which is gone is
 * reported exited with an unknown code. Undefined when it never started.
 */
export function statusFromFile(bundleDir: string): ContainerStatus | undefined {
  let st: ContainerStatus;
  try {
    st = JSON.parse(readFileSync(bundleFiles(bundleDir).status, 'utf8')) as ContainerStatus;
  } catch {
    return undefined;
  }
  if ((st.state === 'running' || st.state === 'restarting' || st.state === 'paused') && !(st.pid && processAlive(st.pid, st.startTime ?? undefined))) {
    // nobody saw it end (the process that ran it was killed): gone, code unknown
    Object.assign(st, { state: 'exited', pid: null, exitCode: null, exitReason: 'its process ended while no tscompose process watched it' });
  }
  return st;
}
