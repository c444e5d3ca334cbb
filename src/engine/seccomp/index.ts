export type { ArgCondition, ArgOp, ProfileRule, RuleCondition } from './profile.js';
export { RULES, DEFAULT_ERRNO } from './profile.generated.js';
export { SYSCALL_TABLES, hostArch, ruleApplies, selectPolicy } from './select.js';
export type { ConditionalRule, SeccompArch, SelectOptions, SyscallPolicy, Verdict } from './select.js';
export { compilePolicy } from './compile.js';
export { BPF_MAXINSNS } from './asm.js';

import { release } from 'node:os';
import { compilePolicy } from './compile.js';
import { selectPolicy, type SeccompArch } from './select.js';

/** The running kernel's [major, minor] from a release string ("6.18.44-fc" → [6, 18]). */
export function kernelVersion(rel: string = release()): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(rel);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

/** Docker's default profile as a BPF program for a container with bounding set `caps`. */
export function defaultProgram(arch: SeccompArch, caps: readonly string[], kernel: [number, number] = kernelVersion()): Buffer {
  return compilePolicy(arch, selectPolicy({ arch, caps, kernel }));
}
