/**
 * What `security_opt` entries tscompose applies, read in one place: the loader warns about the
 * rest and the apply layer turns the applied ones into the engine's spec.
 */

export interface SecurityOptions {
  /** no-new-privileges, no-new-privileges:true, no-new-privileges=true */
  noNewPrivileges: boolean;
  /** seccomp=unconfined or seccomp:unconfined (Docker takes both separators): no seccomp filter */
  seccompUnconfined: boolean;
  /** seccomp=<file>: a profile in Docker's JSON format, the path as written (relative to the project directory) */
  seccompProfile?: string;
  /** entries tscompose ignores (apparmor, label, ...) */
  ignored: string[];
}

const NO_NEW_PRIVILEGES = /^no-new-privileges([:=]true)?$/;
const SECCOMP = /^seccomp[:=](.+)$/;

export function securityOptions(opts: unknown): SecurityOptions {
  const list = Array.isArray(opts) ? opts.filter((o): o is string => typeof o === 'string') : [];
  const seccomp = list.map((o) => SECCOMP.exec(o)?.[1]).filter((v): v is string => v !== undefined);
  // as Docker, the last seccomp= entry wins
  const last = seccomp[seccomp.length - 1];
  return {
    noNewPrivileges: list.some((o) => NO_NEW_PRIVILEGES.test(o)),
    seccompUnconfined: last === 'unconfined',
    seccompProfile: last !== undefined && last !== 'unconfined' ? last : undefined,
    ignored: list.filter((o) => !NO_NEW_PRIVILEGES.test(o) && !SECCOMP.test(o)),
  };
}
