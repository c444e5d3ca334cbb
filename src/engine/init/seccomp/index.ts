/**
 * The container's seccomp filter: Docker's default profile (or the service's own, in Docker's
 * format) for the architecture Node runs on, read for the container's bounding set and the
 * running kernel, installed on every thread of the stage. Installed while the stage still holds
 * CAP_SYS_ADMIN (no_new_privs not required).
 */
import { release } from 'node:os';
import { TscError } from '../../../common/errors.js';
import { installFilter } from '../../../sys/seccomp.js';
import { StepError } from '../step.js';
import { compilePolicy } from './compile.js';
import { ProfileError, readProfile, type DockerSeccompProfile, type SeccompProfile } from './profile.js';
import { DEFAULT_PROFILE, hostArch, numberingsFor, selectPolicy, type SeccompArch } from './select.js';

export type { ArgCondition, ArgOp, DockerSeccompProfile, ProfileRule, RuleCondition, SeccompProfile, Verdict } from './profile.js';
export { ProfileError, readProfile } from './profile.js';
export { DEFAULT_PROFILE, RULES, SYSCALL_TABLES, hostArch, numberingsFor, ruleApplies, selectPolicy } from './select.js';
export type { ConditionalRule, SeccompArch, SelectOptions, SyscallPolicy, SyscallTable } from './select.js';
export { compilePolicy, type Section } from './compile.js';
export { BPF_MAXINSNS } from './asm.js';

/** The running kernel's [major, minor] from a release string ("6.18.44-fc" → [6, 18]). */
export function kernelVersion(rel: string = release()): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(rel);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

/** A profile (Docker's default unless given) as a BPF program for a container with bounding set `caps`. */
export function profileProgram(
  arch: SeccompArch,
  caps: readonly string[],
  kernel: [number, number] = kernelVersion(),
  profile: SeccompProfile = DEFAULT_PROFILE,
): Buffer {
  const o = { arch, caps, kernel };
  return compilePolicy(numberingsFor(profile, arch).map((table) => ({ table, policy: selectPolicy(o, table, profile) })));
}

/** Installs Docker's default profile, or `custom` (a profile in Docker's format, checked by the caller). */
export function installProfileFilter(caps: readonly string[], custom?: DockerSeccompProfile): void {
  const arch = hostArch();
  if (!arch) {
    throw new StepError(
      'seccomp',
      `seccomp profiles need syscall tables for x86_64 or aarch64 (this is ${process.arch})`,
      'set security_opt: [seccomp=unconfined] to run without one',
    );
  }
  const program = profileProgram(arch, caps, kernelVersion(), custom ? readProfile(custom) : DEFAULT_PROFILE);
  installFilter(program, custom ? 'install the seccomp profile of security_opt' : 'install the default seccomp filter');
}

/**
 * A profile file's text checked as the engine will read it: JSON, Docker's format, and a program
 * the kernel takes for a container with bounding set `caps` on this machine. Returns the profile
 * to put in ContainerSpec.seccomp; throws a TscError (SPEC_INVALID) saying what is wrong where.
 */
export function checkProfile(text: string, file: string, caps: readonly string[]): DockerSeccompProfile {
  const bad = (problem: string) =>
    new TscError('SPEC_INVALID', `seccomp profile ${file}: ${problem}`, {
      hint: "write it in Docker's format (defaultAction, syscalls with names and action; Docker's own default profile is one), or use seccomp=unconfined",
    });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw bad(`not valid JSON: ${(e as Error).message}`);
  }
  let profile: SeccompProfile;
  try {
    profile = readProfile(json);
  } catch (e) {
    if (e instanceof ProfileError) throw bad(e.message);
    throw e;
  }
  const arch = hostArch();
  if (arch) {
    try {
      profileProgram(arch, caps, kernelVersion(), profile);
    } catch (e) {
      throw bad((e as Error).message);
    }
  }
  return json as DockerSeccompProfile;
}
