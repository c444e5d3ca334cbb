/**
 * The one answer to "the record says running, but is the process still there?", for the
 * supervisor's re-adoption, the readers of records without a supervisor (ps, logs) and apply's
 * status files. Shared by both sides: reads /proc only, never writes.
 */
import { processAlive } from '../engine/procfs.js';
import type { StatusPatch } from './lifecycle.js';
import type { ContainerStatus } from './types.js';

export interface LivenessOptions {
  /**
   * No supervisor of the project is running: a `restarting` record is over too (nobody will
   * restart it). Leave false when one may be running (it will).
   */
  unsupervised?: boolean;
}

export const GONE_REASON = 'the container exited while no supervisor was watching it: its exit code is unknown';

/**
 * Whether the record claims a process (running or paused; with `unsupervised`, also a pending
 * restart) that is not there any more: same pid and the same start time, not a zombie.
 */
export function recordedProcessGone(st: ContainerStatus, opts: LivenessOptions = {}): boolean {
  if (st.state === 'running' || st.state === 'paused') {
    return !(st.pid && st.startTime !== null && processAlive(st.pid, st.startTime));
  }
  return opts.unsupervised === true && st.state === 'restarting';
}

/** What changes in a record whose process is gone: no process, exit code unknown, and why. */
export function settledAsGone(): StatusPatch {
  return { pid: null, startTime: null, exitCode: null, exitReason: GONE_REASON };
}

/**
 * The record as it should be read: unchanged, or, when its process is gone
 * (recordedProcessGone), exited with an unknown exit code. Never writes the record.
 */
export function settleRecordedStatus(st: ContainerStatus, opts: LivenessOptions = {}): ContainerStatus {
  return recordedProcessGone(st, opts) ? { ...st, ...settledAsGone(), state: 'exited' } : st;
}
