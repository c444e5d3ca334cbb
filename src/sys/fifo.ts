/**
 * FIFOs for a container's stdio (the supervisor's log pump): mkfifo, and growing a pipe's
 * buffer so a container can keep writing while no reader is there.
 */
import { E, errno, fns, libc } from './libc.js';
import { SyscallError } from '../common/errors.js';

const mkfifoFn = libc.func('int mkfifo(const char *path, uint32_t mode)') as (path: string, mode: number) => number;
const F_SETPIPE_SZ = 1031;

/** Creates a FIFO; an existing FIFO at `path` is fine. */
export function mkfifo(path: string, mode = 0o600): void {
  if (mkfifoFn(path, mode) < 0) {
    const e = errno();
    if (e === E.EEXIST) return;
    throw new SyscallError('mkfifo', e, `creating the log FIFO ${path}`);
  }
}

/**
 * Grows a pipe's buffer (up to fs.pipe-max-size, 1 MiB by default) so a container can keep
 * writing that much while no supervisor reads. Best effort: returns the new size or null.
 */
export function growPipe(fd: number, bytes: number): number | null {
  const ret = fns.fcntl(fd, F_SETPIPE_SZ, bytes);
  return ret < 0 ? null : ret;
}
