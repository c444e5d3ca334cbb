/** Extended attributes of a path, never following a final symlink (layers, volume copy-up, the builder). */
import { check, libc } from './libc.js';

const lsetxattrFn = libc.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)');
const lgetxattrFn = libc.func('intptr_t lgetxattr(const char *path, const char *name, _Out_ void *value, size_t size)');
const llistxattrFn = libc.func('intptr_t llistxattr(const char *path, _Out_ void *list, size_t size)');

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

/** The names of a file's xattrs (not following symlinks); [] when it has none or they are unsupported. */
export function llistxattr(path: string): string[] {
  const buf = Buffer.alloc(65536);
  const n = Number(llistxattrFn(path, buf, buf.length));
  if (n <= 0) return [];
  return buf.subarray(0, n).toString('utf8').split('\0').filter(Boolean);
}
