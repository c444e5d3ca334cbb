/**
 * What `security_opt` entries tscompose applies, read in one place: the loader warns about the
 * rest and the apply layer turns the applied ones into the engine's spec.
 */

export interface SecurityOptions {
  /** no-new-privileges, no-new-privileges:true, no-new-privileges=true */
  noNewPrivileges: boolean;
  /** seccomp=unconfined or seccomp:unconfined (Docker takes both separators): no seccomp filter */
  seccompUnconfined: boolean;
  /** entries tscompose ignores (apparmor, label, a seccomp profile file, ...) */
  ignored: string[];
}

const NO_NEW_PRIVILEGES = /^no-new-privileges([:=]true)?$/;
const SECCOMP_UNCONFINED = /^seccomp[:=]unconfined$/;

export function securityOptions(opts: unknown): SecurityOptions {
  const list = Array.isArray(opts) ? opts.filter((o): o is string => typeof o === 'string') : [];
  return {
    noNewPrivileges: list.some((o) => NO_NEW_PRIVILEGES.test(o)),
    seccompUnconfined: list.some((o) => SECCOMP_UNCONFINED.test(o)),
    ignored: list.filter((o) => !NO_NEW_PRIVILEGES.test(o) && !SECCOMP_UNCONFINED.test(o)),
  };
}
