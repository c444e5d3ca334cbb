/**
 * Docker's reading of its profile for one container: which rules apply on this architecture,
 * with this bounding set, on this kernel (moby's setupSeccomp: `includes` must all hold,
 * `excludes` none), and what each syscall number then does.
 */
import { DOCKER_DEFAULT, SYSCALLS_AARCH64, SYSCALLS_ARM, SYSCALLS_I386, SYSCALLS_X32, SYSCALLS_X86_64 } from './profile.generated.js';
import { readProfile, type ArgCondition, type ProfileRule, type RuleCondition, type SeccompProfile, type Verdict } from './profile.js';

/** The native architectures the engine has a profile for, by Go's name (the profile's). */
export type SeccompArch = 'amd64' | 'arm64';

/** Syscall numberings by Go's name: the native ones, i386 and x32 on x86_64, 32-bit arm on aarch64. */
export type SyscallTable = SeccompArch | 'x86' | 'x32' | 'arm';

export const SYSCALL_TABLES: Record<SyscallTable, Readonly<Record<string, number>>> = {
  amd64: SYSCALLS_X86_64,
  x86: SYSCALLS_I386,
  x32: SYSCALLS_X32,
  arm64: SYSCALLS_AARCH64,
  arm: SYSCALLS_ARM,
};

/** libseccomp's names of the numberings (a profile's archMap and architectures). */
const SCMP_ARCH: Record<string, SyscallTable> = {
  SCMP_ARCH_X86_64: 'amd64',
  SCMP_ARCH_X86: 'x86',
  SCMP_ARCH_X32: 'x32',
  SCMP_ARCH_AARCH64: 'arm64',
  SCMP_ARCH_ARM: 'arm',
};

/** The numberings a native architecture's kernel takes besides its own. */
const KERNEL_TAKES: Record<SeccompArch, SyscallTable[]> = { amd64: ['x86', 'x32'], arm64: ['arm'] };

/** Docker's default profile, read. */
export const DEFAULT_PROFILE: SeccompProfile = readProfile(DOCKER_DEFAULT);
export const RULES: readonly ProfileRule[] = DEFAULT_PROFILE.rules;

/**
 * The numberings the filter takes on `native`, native first: moby's reading of the profile (the
 * archMap entry of the native architecture, or the `architectures` list) plus the native one
 * (runc adds it). Those this kernel cannot receive (another machine's) are left out.
 */
export function numberingsFor(profile: SeccompProfile, native: SeccompArch): SyscallTable[] {
  const listed =
    profile.architectures ?? profile.archMap.filter((m) => SCMP_ARCH[m.architecture] === native).flatMap((m) => [m.architecture, ...m.subArchitectures]);
  const tables = new Set(listed.map((a) => SCMP_ARCH[a]));
  return [native, ...KERNEL_TAKES[native].filter((t) => tables.has(t))];
}

/** One syscall's rules in profile order: the first whose argument conditions all hold decides. */
export interface ConditionalRule {
  args: ArgCondition[];
  verdict: Verdict;
}

export interface SyscallPolicy {
  /** syscall number → its verdict, or its conditional rules (then `fallback` when none holds) */
  rules: Map<number, Verdict | ConditionalRule[]>;
  /** for a number no rule decides (the profile's default action: EPERM in Docker's) */
  fallback: Verdict;
  /**
   * The highest syscall number the container's rules name in this numbering. Above it a call is
   * one the profile does not know (a newer kernel's): ENOSYS, so the C library falls back to an
   * older call, as runc does. Unset where runc adds no such check: a default action that allows
   * or already answers ENOSYS, or no rule naming a call of this numbering.
   */
  lastKnown?: number;
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

const ENOSYS = 38;

/**
 * The policy for one container, numbered by `numbering` (the native architecture's by
 * default). As moby, the conditions are read for the native architecture whatever the
 * numbering. A rule without argument conditions decides its syscalls outright (as libseccomp,
 * it wins over conditional rules for the same call); rules with conditions are tried in
 * profile order. Names the numbering lacks are skipped.
 */
export function selectPolicy(o: SelectOptions, numbering: SyscallTable = o.arch, profile: SeccompProfile = DEFAULT_PROFILE): SyscallPolicy {
  const table = SYSCALL_TABLES[numbering];
  const out = new Map<number, Verdict | ConditionalRule[]>();
  let lastKnown: number | undefined;
  for (const r of profile.rules) {
    if (!ruleApplies(r, o)) continue;
    for (const n of r.names) {
      const nr = table[n];
      if (nr === undefined) continue; // a name this numbering lacks (libseccomp skips it too)
      lastKnown = Math.max(lastKnown ?? 0, nr);
      const cur = out.get(nr);
      if (!r.args?.length) {
        if (!Array.isArray(cur) && cur && !sameVerdict(cur, r.verdict)) throw new Error(`the seccomp profile gives ${n} two different actions`);
        out.set(nr, r.verdict);
      } else if (cur === undefined || Array.isArray(cur)) {
        out.set(nr, [...(cur ?? []), { args: r.args, verdict: r.verdict }]);
      }
    }
  }
  const fallback = profile.defaultVerdict;
  const permissive = fallback.action === 'allow' || fallback.action === 'log' || (fallback.action === 'errno' && fallback.errno === ENOSYS);
  return { rules: out, fallback, lastKnown: permissive ? undefined : lastKnown };
}

const sameVerdict = (a: Verdict, b: Verdict): boolean => a.action === b.action && (a.action !== 'errno' || a.errno === (b as { errno: number }).errno);

/** The Go name of the architecture Node runs on, or undefined when the engine has no table for it. */
export function hostArch(nodeArch: string = process.arch): SeccompArch | undefined {
  return nodeArch === 'x64' ? 'amd64' : nodeArch === 'arm64' ? 'arm64' : undefined;
}
