/**
 * The one place libc is loaded through koffi, and the one table of the libc functions that more
 * than one module calls (`fns`): each is declared once, here. A function only one module needs
 * is declared in that module under src/sys/. Results are checked with `check()`, which turns
 * -1 + errno into a SyscallError; errno values are compared by name (`E.ENODEV`, Node's own
 * table), never as bare numbers or by an error's message text.
 */
import koffi from 'koffi';
import { constants } from 'node:os';
import { SyscallError } from '../common/errors.js';

export { koffi };
export const libc = koffi.load('libc.so.6');

export function errno(): number {
  return koffi.errno();
}

/** Throws a SyscallError when `ret` is negative (the libc convention). Returns `ret`. */
export function check(ret: number, syscall: string, context: string): number {
  if (ret < 0) throw new SyscallError(syscall, koffi.errno(), context);
  return ret;
}

/** errno values by name, from Node's table for this platform (`E.EINTR`, `E.ENODEV`, ...). */
export const E = constants.errno;

/** Whether `e` is a SyscallError (or netlink error) carrying that errno. */
export function hasErrno(e: unknown, errnoValue: number): boolean {
  return typeof e === 'object' && e !== null && (e as { errno?: unknown }).errno === errnoValue;
}

/** libc functions called from more than one module, declared once. */
export const fns = {
  open: libc.func('int open(const char *path, int flags, int mode)') as (path: string, flags: number, mode: number) => number,
  close: libc.func('int close(int fd)') as (fd: number) => number,
  /** ioctl with an integer argument */
  ioctl: libc.func('int ioctl(int fd, unsigned long req, unsigned long arg)') as (fd: number, req: number, arg: number) => number,
  /** ioctl with a buffer the kernel reads or fills */
  ioctlBuf: libc.func('int ioctl(int fd, unsigned long req, void *arg)') as (fd: number, req: number, arg: Buffer) => number,
  /** ioctl with a pointer to one int the kernel reads and may write back ([value] in, [value] out) */
  ioctlInt: libc.func('int ioctl(int fd, unsigned long req, _Inout_ int *arg)') as (fd: number, req: number, arg: number[]) => number,
  mount: libc.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)') as (
    source: string | null,
    target: string,
    fstype: string | null,
    flags: number,
    data: string | null,
  ) => number,
  umount2: libc.func('int umount2(const char *target, int flags)') as (target: string, flags: number) => number,
  setns: libc.func('int setns(int fd, int nstype)') as (fd: number, nstype: number) => number,
  unshare: libc.func('int unshare(int flags)') as (flags: number) => number,
  prctl: libc.func('int prctl(int option, unsigned long a2, unsigned long a3, unsigned long a4, unsigned long a5)') as (
    option: number,
    a2: number,
    a3: number,
    a4: number,
    a5: number,
  ) => number,
  mknod: libc.func('int mknod(const char *path, uint32_t mode, uint64_t dev)') as (path: string, mode: number, dev: number | bigint) => number,
  fcntl: libc.func('int fcntl(int fd, int cmd, int arg)') as (fd: number, cmd: number, arg: number) => number,
  flock: libc.func('int flock(int fd, int operation)') as (fd: number, operation: number) => number,
};
