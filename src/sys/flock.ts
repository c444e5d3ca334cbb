/**
 * flock(2): advisory whole-file locks tied to an open file description. The kernel drops the
 * lock when the last descriptor of that description is closed, so a lock held by a process
 * that dies (even by SIGKILL) is released without any cleanup on our side.
 */
import { E, check, errno, fns } from './libc.js';

const flockFn = fns.flock;

export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

const EWOULDBLOCK = E.EWOULDBLOCK;
const EINTR = E.EINTR;

/**
 * Tries to take an exclusive lock on `fd` without blocking. Returns true when taken, false when
 * another open file description holds a conflicting lock; throws a SyscallError otherwise.
 */
export function tryLockExclusive(fd: number, context: string): boolean {
  for (;;) {
    const ret = flockFn(fd, LOCK_EX | LOCK_NB) as number;
    if (ret === 0) return true;
    const e = errno();
    if (e === EWOULDBLOCK) return false;
    if (e === EINTR) continue;
    check(ret, 'flock', context);
  }
}

/** Releases the lock held through `fd` (closing the descriptor also does). */
export function unlock(fd: number, context: string): void {
  check(flockFn(fd, LOCK_UN) as number, 'flock', context);
}
