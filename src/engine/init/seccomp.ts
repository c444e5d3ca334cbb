/**
 * The container's default seccomp filter: Docker's default profile (src/engine/seccomp) for the
 * architecture Node runs on, read for the container's bounding set, installed on the calling
 * thread. Installed while the stage still holds CAP_SYS_ADMIN (no_new_privs not required).
 */
import { installFilter } from '../../sys/seccomp.js';
import { defaultProgram, hostArch } from '../seccomp/index.js';
import { StepError } from './step.js';

export function installDefaultFilter(caps: readonly string[]): void {
  const arch = hostArch();
  if (!arch) {
    throw new StepError(
      'seccomp',
      `the default seccomp profile has syscall tables for x86_64 and aarch64 only (this is ${process.arch})`,
      'set security_opt: [seccomp=unconfined] to run without it',
    );
  }
  installFilter(defaultProgram(arch, caps), 'install the default seccomp filter');
}
