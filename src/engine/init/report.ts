/** Writing status messages on the status channel (fd 3), shared by the init and exec stages. */
import { writeSync } from 'node:fs';
import { STATUS_FD, type StatusMessage } from '../protocol.js';
import { StepError } from './step.js';
import { SyscallError } from '../../common/errors.js';

export function send(msg: StatusMessage): void {
  try {
    writeSync(STATUS_FD, JSON.stringify(msg) + '\n');
  } catch {
    // the host went away; nothing to report to
  }
}

/** Runs one named setup step; any failure becomes a StepError naming it. */
export function step<T>(name: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof StepError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new StepError(name, err.message ?? String(e));
  }
}

export function reportFailure(e: unknown): void {
  if (e instanceof StepError) {
    send({ type: 'error', step: e.step, message: e.message, hint: e.hint });
  } else if (e instanceof SyscallError) {
    send({ type: 'error', step: e.syscall, message: e.message, errno: e.errno });
  } else {
    const err = e as Error;
    send({ type: 'error', step: 'init', message: err?.stack ?? String(e) });
  }
}
