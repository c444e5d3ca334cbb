import { StepError } from './step.js';

const IPC_SYSCTLS = [
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.sem',
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
];

/** Sysctls that are per-namespace (Docker's list); anything else would change the host. */
export function checkSysctl(key: string, netnsHost: boolean): void {
  if (!/^[a-z0-9_]+(\.[A-Za-z0-9_-]+)+$/.test(key)) throw new StepError('sysctls', `invalid sysctl name "${key}"`);
  if (IPC_SYSCTLS.includes(key) || key.startsWith('fs.mqueue.')) return;
  if (key.startsWith('net.')) {
    if (netnsHost) throw new StepError('sysctls', `sysctl ${key} cannot be set with the host's network namespace (network_mode: host)`);
    return;
  }
  throw new StepError(
    'sysctls',
    `sysctl ${key} is not namespaced: setting it would change the host`,
    'only net.*, kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.* are allowed',
  );
}
