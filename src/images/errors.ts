/** Turning filesystem failures into the product errors users can act on. */
import { TscError, SyscallError } from '../common/errors.js';

/** Turns filesystem errors into product errors (ENOSPC is the one users can act on). */
export function fsFailure(e: unknown, what: string): TscError {
  if (e instanceof TscError) return e;
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ENOSPC' || (e instanceof SyscallError && e.errno === 28)) {
    return new TscError('DISK_FULL', `no space left on device while ${what}`, {
      cause: e,
      hint: 'free space on the filesystem holding the state root (tscompose image prune removes unused images)',
    });
  }
  return new TscError('IMAGE_ARCHIVE', `${what} failed: ${err?.message ?? String(e)}`, { cause: e });
}
