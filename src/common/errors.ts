/**
 * One error type for the whole product. Every error a user can see carries a stable code
 * (from the fixed union below), a one-paragraph message that says what and where, an optional
 * hint, and the underlying cause. Only the CLI reporter formats errors; code never prints them.
 */
export type ErrorCode =
  | 'SPEC_NOT_FOUND' // no compose file found
  | 'SPEC_PARSE' // YAML syntax
  | 'SPEC_INVALID' // schema validation
  | 'SPEC_INTERPOLATION' // missing required variable, bad syntax
  | 'SPEC_REFERENCE' // unknown service/network/volume, dependency cycle
  | 'SPEC_UNSUPPORTED' // a valid Compose key tscompose does not implement
  | 'IMAGE_NOT_FOUND'
  | 'IMAGE_REGISTRY' // registry unreachable or protocol error
  | 'IMAGE_AUTH'
  | 'IMAGE_DIGEST' // content does not match its digest
  | 'IMAGE_UNSAFE' // layer entry escapes its directory
  | 'IMAGE_ARCHIVE'
  | 'IMAGE_IN_USE'
  | 'ENGINE_SETUP' // container setup failed (host side or inside init)
  | 'ENGINE_CGROUP'
  | 'ENGINE_NOT_RUNNING'
  | 'ENGINE_EXEC'
  | 'SUPERVISOR'
  | 'NETWORK'
  | 'NETWORK_PORT_IN_USE'
  | 'NETWORK_FIREWALL' // the host's packet filter tools are missing or refused our rules
  | 'NETWORK_IPAM'
  | 'STATE_LOCKED'
  | 'STATE_CORRUPT'
  | 'PLAN'
  | 'BUILD_FAILED' // a Dockerfile that cannot be built: the message names the file and line
  | 'UP_CONDITION' // a depends_on condition failed
  | 'USAGE' // bad command line
  | 'FORMAT' // a --format template that cannot be evaluated (exit 1, as docker's template errors)
  | 'NO_SUCH_SERVICE'
  | 'SYSCALL'
  | 'NOT_ROOT'
  | 'DISK_FULL'
  | 'INTERNAL';

export interface ErrorOptions {
  hint?: string;
  cause?: unknown;
}

export class TscError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  constructor(code: ErrorCode, message: string, opts: ErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'TscError';
    this.code = code;
    this.hint = opts.hint;
  }
}

/** A failed syscall: the call, errno and its name, plus what we were doing. */
export class SyscallError extends TscError {
  readonly errno: number;
  readonly syscall: string;
  constructor(syscall: string, errno: number, context: string) {
    super('SYSCALL', `${context}: ${syscall} failed: ${errnoName(errno)} (${errno})`);
    this.errno = errno;
    this.syscall = syscall;
  }
}

const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  3: 'ESRCH',
  4: 'EINTR',
  5: 'EIO',
  9: 'EBADF',
  11: 'EAGAIN',
  12: 'ENOMEM',
  13: 'EACCES',
  16: 'EBUSY',
  17: 'EEXIST',
  18: 'EXDEV',
  19: 'ENODEV',
  20: 'ENOTDIR',
  21: 'EISDIR',
  22: 'EINVAL',
  24: 'EMFILE',
  28: 'ENOSPC',
  30: 'EROFS',
  32: 'EPIPE',
  34: 'ERANGE',
  38: 'ENOSYS',
  39: 'ENOTEMPTY',
  95: 'EOPNOTSUPP',
  98: 'EADDRINUSE',
  99: 'EADDRNOTAVAIL',
  110: 'ETIMEDOUT',
};

export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `errno ${errno}`;
}

export function isTscError(e: unknown): e is TscError {
  return e instanceof TscError;
}
