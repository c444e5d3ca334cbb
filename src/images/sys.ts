/** The few filesystem syscalls Node lacks that layer unpacking needs: mknod and xattrs. */
import { check, libc } from '../sys/libc.js';

export { lgetxattr, llistxattr, lsetxattr } from '../sys/xattr.js';

const mknodFn = libc.func('int mknod(const char *path, uint32_t mode, uint64_t dev)');

export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;

/** glibc's makedev() for 64-bit dev_t. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffn) << 8n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n) | ((ma & ~0xfffn) << 32n);
}

export function mknod(path: string, mode: number, major = 0, minor = 0): void {
  check(mknodFn(path, mode, makedev(major, minor)) as number, 'mknod', `creating device node ${path}`);
}
