/**
 * Docker's reading of its profile for one container: which rules apply on this architecture,
 * with this bounding set, on this kernel (moby's setupSeccomp: `includes` must all hold,
 * `excludes` none), and what each syscall number then does.
 */
import { DEFAULT_ERRNO, RULES, SYSCALLS_AARCH64, SYSCALLS_I386, SYSCALLS_X86_64 } from './profile.generated.js';
import type { ArgCondition, ProfileRule, RuleCondition } from './profile.js';

/** The native architectures the engine has a profile for, by Go's name (the profile's). */
export type SeccompArch = 'amd64' | 'arm64';

/** Syscall numberings: the native ones and i386 (32-bit calls on x86_64). */
export type SyscallTable = SeccompArch | 'x86';

export const SYSCALL_TABLES: Record<SyscallTable, Readonly<Record<string, number>>> = { amd64: SYSCALLS_X86_64, x86: SYSCALLS_I386, arm64: SYSCALLS_AARCH64 };

/**
 * The other numberings a native architecture's kernel takes and Docker's profile also
 * allows (its archMap). arm64's 32-bit arm calls and x86_64's x32 calls have no table
 * here: the filter answers them ENOSYS.
 */
export const SUB_TABLES: Record<SeccompArch, SyscallTable[]> = { amd64: ['x86'], arm64: [] };

/** What a call gets: allowed, or refused with an errno. */
export type Verdict = { action: 'allow' } | { action: 'errno'; errno: number };

/** One syscall's rules in profile order: the first whose argument conditions all hold decides. */
export interface ConditionalRule {
  args: ArgCondition[];
  verdict: Verdict;
}

export interface SyscallPolicy {
  /** syscall number → its verdict, or its conditional rules (then `fallback` when none holds) */
  rules: Map<number, Verdict | ConditionalRule[]>;
  /** for a number no rule names up to `lastKnown` (the profile's defaultErrnoRet: EPERM) */
  fallback: Verdict;
  /**
   * The highest syscall number the profile names on this architecture. Above it a call is one
   * the profile does not know (a newer kernel's): ENOSYS, so the C library falls back to an
   * older call, as runc does for Docker.
   */
  lastKnown: number;
}

export interface SelectOptions {
  arch: SeccompArch;
  /** the container's bounding set, names without CAP_ */
  caps: readonly string[];
  /** the running kernel's [major, minor] */
  kernel: [number, number];
}

function kernelAtLeast(kernel: [number, number], min: string): boolean {
  const [maj, minor = 0] = min.split('.').map(Number);
  return kernel[0] > maj || (kernel[0] === maj && kernel[1] >= minor);
}

function holds(c: RuleCondition, o: SelectOptions, all: boolean): boolean {
  const tests: boolean[] = [];
  if (c.arches?.length) tests.push(c.arches.includes(o.arch));
  // includes: every capability held; excludes: any capability held
  if (c.caps?.length) tests.push(all ? c.caps.every((x) => o.caps.includes(x)) : c.caps.some((x) => o.caps.includes(x)));
  if (c.minKernel) tests.push(kernelAtLeast(o.kernel, c.minKernel));
  return all ? tests.every(Boolean) : tests.some(Boolean);
}

/** Whether Docker keeps the rule for this container. */
export function ruleApplies(r: ProfileRule, o: SelectOptions): boolean {
  if (r.excludes && holds(r.excludes, o, false)) return false;
  if (r.includes && !holds(r.includes, o, true)) return false;
  return true;
}

const verdictOf = (r: ProfileRule): Verdict => (r.action === 'allow' ? { action: 'allow' } : { action: 'errno', errno: r.errno ?? DEFAULT_ERRNO });

/**
 * The policy for one container, numbered by `numbering` (the native architecture's by
 * default). As moby, the conditions are read for the native architecture whatever the
 * numbering. A rule without argument conditions decides its syscalls outright (as libseccomp,
 * it wins over conditional rules for the same call); rules with conditions are tried in
 * profile order. Names the numbering lacks are skipped.
 */
export function selectPolicy(o: SelectOptions, numbering: SyscallTable = o.arch, rules: readonly ProfileRule[] = RULES): SyscallPolicy {
  const table = SYSCALL_TABLES[numbering];
  const out = new Map<number, Verdict | ConditionalRule[]>();
  let lastKnown = 0;
  for (const r of rules) for (const n of r.names) if (table[n] !== undefined) lastKnown = Math.max(lastKnown, table[n]);
  for (const r of rules) {
    if (!ruleApplies(r, o)) continue;
    for (const n of r.names) {
      const nr = table[n];
      if (nr === undefined) continue;
      const cur = out.get(nr);
      if (!r.args?.length) {
        if (!Array.isArray(cur) && cur && cur.action !== r.action) throw new Error(`seccomp profile: conflicting actions for ${n}`);
        out.set(nr, verdictOf(r));
      } else if (cur === undefined || Array.isArray(cur)) {
        out.set(nr, [...(cur ?? []), { args: r.args, verdict: verdictOf(r) }]);
      }
    }
  }
  return { rules: out, fallback: { action: 'errno', errno: DEFAULT_ERRNO }, lastKnown };
}

/** The Go name of the architecture Node runs on, or undefined when the engine has no table for it. */
export function hostArch(nodeArch: string = process.arch): SeccompArch | undefined {
  return nodeArch === 'x64' ? 'amd64' : nodeArch === 'arm64' ? 'arm64' : undefined;
}
