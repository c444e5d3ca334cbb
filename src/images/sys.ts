/** The few filesystem syscalls Node lacks that layer unpacking needs: mknod and xattrs. */
import { check, libc } from '../sys/libc.js';

const mknodFn = libc.func('int mknod(const char *path, uint32_t mode, uint64_t dev)');
const lsetxattrFn = libc.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)');
const lgetxattrFn = libc.func('intptr_t lgetxattr(const char *path, const char *name, _Out_ void *value, size_t size)');

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

export function lsetxattr(path: string, name: string, value: Buffer): void {
  check(lsetxattrFn(path, name, value, value.length, 0) as number, 'lsetxattr', `setting xattr ${name} on ${path}`);
}

/** The xattr's value, or undefined when the file does not have it. */
export function lgetxattr(path: string, name: string): Buffer | undefined {
  const buf = Buffer.alloc(65536);
  const n = Number(lgetxattrFn(path, name, buf, buf.length));
  if (n < 0) return undefined;
  return buf.subarray(0, n);
}

const llistxattrFn = libc.func('intptr_t llistxattr(const char *path, _Out_ void *list, size_t size)');

/** The names of a file's xattrs (not following symlinks); [] when it has none or they are unsupported. */
export function llistxattr(path: string): string[] {
  const buf = Buffer.alloc(65536);
  const n = Number(llistxattrFn(path, buf, buf.length));
  if (n <= 0) return [];
  return buf.subarray(0, n).toString('utf8').split('\0').filter(Boolean);
}
