/**
 * The container's default seccomp filter: Docker's default profile for the architecture Node
 * runs on, read for the container's bounding set and the running kernel, installed on the
 * calling thread. Installed while the stage still holds CAP_SYS_ADMIN (no_new_privs not required).
 */
import { release } from 'node:os';
import { installFilter } from '../../../sys/seccomp.js';
import { StepError } from '../step.js';
import { compilePolicy } from './compile.js';
import { SUB_TABLES, hostArch, selectPolicy, type SeccompArch } from './select.js';

export type { ArgCondition, ArgOp, ProfileRule, RuleCondition } from './profile.js';
export { RULES, DEFAULT_ERRNO } from './profile.generated.js';
export { SUB_TABLES, SYSCALL_TABLES, hostArch, ruleApplies, selectPolicy } from './select.js';
export type { ConditionalRule, SeccompArch, SelectOptions, SyscallPolicy, SyscallTable, Verdict } from './select.js';
export { compilePolicy, type Section } from './compile.js';
export { BPF_MAXINSNS } from './asm.js';

/** The running kernel's [major, minor] from a release string ("6.18.44-fc" → [6, 18]). */
export function kernelVersion(rel: string = release()): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(rel);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

/** Docker's default profile as a BPF program for a container with bounding set `caps`. */
export function defaultProgram(arch: SeccompArch, caps: readonly string[], kernel: [number, number] = kernelVersion()): Buffer {
  const o = { arch, caps, kernel };
  return compilePolicy([arch, ...SUB_TABLES[arch]].map((table) => ({ table, policy: selectPolicy(o, table) })));
}

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
