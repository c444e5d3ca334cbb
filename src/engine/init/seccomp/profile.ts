/**
 * Docker's seccomp profile format (moby's `types.Seccomp`, the JSON of its default profile and
 * of `security_opt: [seccomp=<file>]`) and its reading into the rules the compiler takes.
 * `readProfile` checks a profile a user wrote and says what is wrong where.
 */

/** libseccomp's comparisons (SCMP_CMP_*): `arg OP value`; MASKED_EQ is `(arg & value) == valueTwo`. */
export type ArgOp = 'NE' | 'LT' | 'LE' | 'EQ' | 'GE' | 'GT' | 'MASKED_EQ';

/** A profile as Docker writes it (the fields tscompose reads; others are ignored, as by Docker). */
export interface DockerSeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  /** the old form: the architectures of the filter */
  architectures?: string[];
  /** the new form: for each native architecture, the others its kernel also takes */
  archMap?: Array<{ architecture: string; subArchitectures: string[] | null }>;
  syscalls?: Array<{
    names?: string[];
    name?: string;
    action: string;
    errnoRet?: number;
    args?: Array<{ index: number; value: number; valueTwo?: number; op: string }> | null;
    includes?: DockerCondition;
    excludes?: DockerCondition;
  }>;
}

interface DockerCondition {
  arches?: string[];
  caps?: string[];
  minKernel?: string;
}

export interface ArgCondition {
  /** argument number, 0..5 */
  index: number;
  op: ArgOp;
  value: number;
  valueTwo: number;
}

/** When a rule applies: Docker's `includes` (all must hold) and `excludes` (none may). */
export interface RuleCondition {
  /** Go architecture names: amd64, arm64, x86, arm, ... */
  arches?: string[];
  /** capability names without CAP_, checked against the container's bounding set */
  caps?: string[];
  /** "major.minor": the running kernel at least this */
  minKernel?: string;
}

/** What a call gets (libseccomp's actions that tscompose supports). */
export type Verdict = { action: 'allow' | 'log' | 'trap' | 'kill_thread' | 'kill_process' } | { action: 'errno'; errno: number };

export interface ProfileRule {
  names: string[];
  verdict: Verdict;
  /** all must hold for the rule to match a call */
  args?: ArgCondition[];
  includes?: RuleCondition;
  excludes?: RuleCondition;
}

/** A profile read: what the compiler needs. */
export interface SeccompProfile {
  /** for a call no rule decides */
  defaultVerdict: Verdict;
  /** per native architecture (SCMP_ARCH_* names), the others its filter also takes */
  archMap: Array<{ architecture: string; subArchitectures: string[] }>;
  /** the `architectures` form: the filter's architectures whatever the native one */
  architectures?: string[];
  rules: ProfileRule[];
}

const EPERM = 1;
const ACTIONS: Record<string, Verdict['action']> = {
  SCMP_ACT_ALLOW: 'allow',
  SCMP_ACT_ERRNO: 'errno',
  SCMP_ACT_LOG: 'log',
  SCMP_ACT_TRAP: 'trap',
  SCMP_ACT_KILL: 'kill_thread',
  SCMP_ACT_KILL_THREAD: 'kill_thread',
  SCMP_ACT_KILL_PROCESS: 'kill_process',
};
const OPS = new Set(['NE', 'LT', 'LE', 'EQ', 'GE', 'GT', 'MASKED_EQ']);
const ARCH_NAME = /^SCMP_ARCH_[A-Z0-9_]+$/;

/** A profile that does not say what Docker reads: `where` is the JSON path of the fault. */
export class ProfileError extends Error {
  constructor(
    readonly where: string,
    readonly problem: string,
  ) {
    super(`${where}: ${problem}`);
  }
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const fail = (where: string, problem: string): never => {
  throw new ProfileError(where, problem);
};
const uint = (v: unknown, where: string, max: number): number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= max ? v : fail(where, `must be a whole number from 0 to ${max}, not ${JSON.stringify(v)}`);
const strings = (v: unknown, where: string, pattern?: RegExp): string[] => {
  if (!Array.isArray(v)) return fail(where, `must be a list of strings, not ${JSON.stringify(v)}`);
  v.forEach((s, i) => (typeof s !== 'string' || (pattern && !pattern.test(s))) && fail(`${where}[${i}]`, `${JSON.stringify(s)} is not a valid name`));
  return v as string[];
};

function verdict(action: unknown, errnoRet: unknown, where: string, errnoDefault: number): Verdict {
  const a = typeof action === 'string' ? ACTIONS[action] : undefined;
  if (action === undefined) return fail(`${where}.action`, 'is missing');
  if (!a) {
    const why = action === 'SCMP_ACT_NOTIFY' || action === 'SCMP_ACT_TRACE' ? 'is not supported by tscompose' : 'is not a seccomp action';
    return fail(`${where}.action`, `${JSON.stringify(action)} ${why} (known: ${Object.keys(ACTIONS).join(', ')})`);
  }
  if (a !== 'errno') return { action: a };
  return { action: 'errno', errno: errnoRet === undefined ? errnoDefault : uint(errnoRet, `${where}.errnoRet`, 4095) };
}

function condition(v: unknown, where: string): RuleCondition | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) return fail(where, 'must be an object with arches, caps or minKernel');
  const c: RuleCondition = {};
  if (v.arches != null) c.arches = strings(v.arches, `${where}.arches`);
  if (v.caps != null) c.caps = strings(v.caps, `${where}.caps`).map((x) => x.toUpperCase().replace(/^CAP_/, ''));
  if (v.minKernel != null) {
    if (typeof v.minKernel !== 'string' || !/^\d+\.\d+$/.test(v.minKernel))
      fail(`${where}.minKernel`, `must be "major.minor", not ${JSON.stringify(v.minKernel)}`);
    c.minKernel = v.minKernel as string;
  }
  return Object.keys(c).length ? c : undefined;
}

function rule(s: unknown, where: string): ProfileRule {
  if (!isObj(s)) return fail(where, 'must be an object with names and action');
  const names = s.names != null ? strings(s.names, `${where}.names`) : typeof s.name === 'string' ? [s.name] : fail(where, 'has no names');
  const r: ProfileRule = { names, verdict: verdict(s.action, s.errnoRet, where, EPERM) };
  if (s.args != null) {
    if (!Array.isArray(s.args)) fail(`${where}.args`, 'must be a list');
    const args = (s.args as unknown[]).map((a, i): ArgCondition => {
      const at = `${where}.args[${i}]`;
      if (!isObj(a)) return fail(at, 'must be an object with index, value and op');
      const op = typeof a.op === 'string' ? a.op.replace(/^SCMP_CMP_/, '') : '';
      if (!OPS.has(op)) fail(`${at}.op`, `${JSON.stringify(a.op)} is not a comparison (SCMP_CMP_EQ, _NE, _LT, _LE, _GT, _GE, _MASKED_EQ)`);
      return {
        index: uint(a.index, `${at}.index`, 5),
        op: op as ArgOp,
        value: uint(a.value, `${at}.value`, 2 ** 64),
        valueTwo: uint(a.valueTwo ?? 0, `${at}.valueTwo`, 2 ** 64),
      };
    });
    if (args.length) r.args = args;
  }
  const includes = condition(s.includes, `${where}.includes`);
  const excludes = condition(s.excludes, `${where}.excludes`);
  if (includes) r.includes = includes;
  if (excludes) r.excludes = excludes;
  return r;
}

/** Reads a profile in Docker's format; throws ProfileError naming the field at fault. */
export function readProfile(p: unknown): SeccompProfile {
  if (!isObj(p)) return fail('the profile', 'must be a JSON object with defaultAction and syscalls');
  if (p.defaultAction === undefined) fail('defaultAction', 'is missing');
  const defaultErrno = p.defaultErrnoRet === undefined || p.defaultErrnoRet === null ? EPERM : uint(p.defaultErrnoRet, 'defaultErrnoRet', 4095);
  const out: SeccompProfile = { defaultVerdict: verdict(p.defaultAction, undefined, 'defaultAction', defaultErrno), archMap: [], rules: [] };
  if (p.architectures != null && p.archMap != null) fail('architectures', 'and archMap are both set: use one (archMap)');
  if (p.architectures != null) out.architectures = strings(p.architectures, 'architectures', ARCH_NAME);
  if (p.archMap != null) {
    if (!Array.isArray(p.archMap)) fail('archMap', 'must be a list of { architecture, subArchitectures }');
    out.archMap = (p.archMap as unknown[]).map((m, i) => {
      if (!isObj(m) || typeof m.architecture !== 'string' || !ARCH_NAME.test(m.architecture))
        return fail(`archMap[${i}].architecture`, 'must be an SCMP_ARCH_ name');
      return {
        architecture: m.architecture,
        subArchitectures: m.subArchitectures == null ? [] : strings(m.subArchitectures, `archMap[${i}].subArchitectures`, ARCH_NAME),
      };
    });
  }
  if (p.syscalls != null && !Array.isArray(p.syscalls)) fail('syscalls', 'must be a list of rules');
  out.rules = ((p.syscalls as unknown[] | undefined) ?? []).map((s, i) => rule(s, `syscalls[${i}]`));
  return out;
}
