/**
 * The one place libc is loaded through koffi. Modules that need syscalls (engine, network)
 * declare their functions with `libc.func(...)` in their own files under src/sys/ and check
 * results with `check()`, which turns -1 + errno into a SyscallError.
 */
import koffi from 'koffi';
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
