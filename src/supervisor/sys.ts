/**
 * The few libc calls the supervisor needs that Node does not offer: mkfifo for the container's
 * stdio, flock for the single-supervisor lock, pidfd_open + poll to watch processes it did not
 * fork (re-adopted containers).
 */
import { check, errno, libc } from '../sys/libc.js';
import { SyscallError } from '../common/errors.js';

const mkfifoFn = libc.func('int mkfifo(const char *path, uint32_t mode)');
const flockFn = libc.func('int flock(int fd, int op)');
const pidfdOpenFn = libc.func('int pidfd_open(int pid, unsigned int flags)');
const pollFn = libc.func('int poll(void *fds, unsigned long nfds, int timeout)');
const closeFn = libc.func('int close(int fd)');
const fcntlIntFn = libc.func('int fcntl(int fd, int cmd, int arg)');
const F_SETPIPE_SZ = 1031;

const EEXIST = 17;
const EWOULDBLOCK = 11;
const LOCK_EX = 2;
const LOCK_NB = 4;
const POLLIN = 0x1;

/** Creates a FIFO; an existing FIFO at `path` is fine. */
export function mkfifo(path: string, mode = 0o600): void {
  const ret = mkfifoFn(path, mode) as number;
  if (ret < 0) {
    const e = errno();
    if (e === EEXIST) return;
    throw new SyscallError('mkfifo', e, `creating the log FIFO ${path}`);
  }
}

/** Takes an exclusive lock on an open file without waiting; false when someone else holds it. */
export function tryLockExclusive(fd: number, what: string): boolean {
  const ret = flockFn(fd, LOCK_EX | LOCK_NB) as number;
  if (ret < 0) {
    const e = errno();
    if (e === EWOULDBLOCK) return false;
    throw new SyscallError('flock', e, `locking ${what}`);
  }
  return true;
}

/** A pidfd for `pid`, or null when the process is gone (ESRCH). */
export function pidfdOpen(pid: number): number | null {
  const ret = pidfdOpenFn(pid, 0) as number;
  if (ret < 0) {
    const e = errno();
    if (e === 3) return null;
    throw new SyscallError('pidfd_open', e, `watching process ${pid}`);
  }
  return ret;
}

/** True once the process behind the pidfd has exited (never blocks). */
export function pidfdExited(fd: number): boolean {
  const buf = Buffer.alloc(8);
  buf.writeInt32LE(fd, 0);
  buf.writeInt16LE(POLLIN, 4);
  const ret = check(pollFn(buf, 1, 0) as number, 'poll', 'checking a watched process');
  return ret > 0 && (buf.readInt16LE(6) & POLLIN) !== 0;
}

export function closeFd(fd: number): void {
  closeFn(fd);
}

/**
 * Grows a pipe's buffer (up to fs.pipe-max-size, 1 MiB by default) so a container can keep
 * writing that much while no supervisor reads. Best effort: returns the new size or null.
 */
export function growPipe(fd: number, bytes: number): number | null {
  const ret = fcntlIntFn(fd, F_SETPIPE_SZ, bytes) as number;
  return ret < 0 ? null : ret;
}
