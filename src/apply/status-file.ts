import { readFileSync } from 'node:fs';
import { settleRecordedStatus, type LivenessOptions } from '../supervisor/index.js';
import { bundleFiles } from '../supervisor/paths.js';
import type { ContainerStatus } from '../supervisor/types.js';

/**
 * A container's status as its bundle's status file says (the supervisor writes it on every
 * change), for when the supervisor cannot be asked: one that claims a live process which is
 * gone (or, with `unsupervised`, a restart nobody is left to make) is reported exited with an
 * unknown code, as the supervisor decides it (settleRecordedStatus). Pass `unsupervised` only
 * when no supervisor will restart the container. Undefined when it never started.
 */
export function statusFromFile(bundleDir: string, opts: LivenessOptions): ContainerStatus | undefined {
  let st: ContainerStatus;
  try {
    st = JSON.parse(readFileSync(bundleFiles(bundleDir).status, 'utf8')) as ContainerStatus;
  } catch {
    return undefined;
  }
  return settleRecordedStatus(st, opts);
}
