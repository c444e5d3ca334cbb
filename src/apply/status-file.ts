import { readFileSync } from 'node:fs';
import { settleRecordedStatus } from '../supervisor/index.js';
import { bundleFiles } from '../supervisor/paths.js';
import type { ContainerStatus } from '../supervisor/types.js';

/**
 * A container's status as its bundle's status file says (the supervisor writes it on every
 * change), for when no supervisor answers: one that claims a live process which is gone (or a
 * restart nobody is left to make) is reported exited with an unknown code, as the supervisor
 * decides it (settleRecordedStatus). Undefined when it never started.
 */
export function statusFromFile(bundleDir: string): ContainerStatus | undefined {
  let st: ContainerStatus;
  try {
    st = JSON.parse(readFileSync(bundleFiles(bundleDir).status, 'utf8')) as ContainerStatus;
  } catch {
    return undefined;
  }
  return settleRecordedStatus(st, { unsupervised: true });
}
