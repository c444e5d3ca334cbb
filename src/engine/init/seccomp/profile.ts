/** The shape of one rule of Docker's default seccomp profile, as the generator writes it. */

/** libseccomp's comparisons (SCMP_CMP_*): `arg OP value`; MASKED_EQ is `(arg & value) == valueTwo`. */
export type ArgOp = 'NE' | 'LT' | 'LE' | 'EQ' | 'GE' | 'GT' | 'MASKED_EQ';

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

export interface ProfileRule {
  names: string[];
  action: 'allow' | 'errno';
  /** for action errno */
  errno?: number;
  /** all must hold for the rule to match a call */
  args?: ArgCondition[];
  includes?: RuleCondition;
  excludes?: RuleCondition;
}
