/**
 * Seccomp: the kernel's constants for a filter program (return values, architecture tags,
 * the layout of struct seccomp_data) and installing a program with seccomp(2) on every thread
 * of the process (SECCOMP_FILTER_FLAG_TSYNC). The policy and the program belong to the caller
 * (src/engine/init/seccomp).
 */
import { E, koffi, libc, check } from './libc.js';
import { SyscallError, TscError } from '../common/errors.js';

/** SECCOMP_RET_* by the action's name (<linux/seccomp.h>); ERRNO takes the errno in its low 16 bits */
export const SECCOMP_RET = {
  kill_process: 0x80000000,
  kill_thread: 0x00000000,
  trap: 0x00030000,
  log: 0x7ffc0000,
  allow: 0x7fff0000,
} as const;
export const SECCOMP_RET_ALLOW = SECCOMP_RET.allow;
export const SECCOMP_RET_ERRNO = 0x00050000;
const SECCOMP_SET_MODE_FILTER = 1;
const SECCOMP_FILTER_FLAG_TSYNC = 1;
/** the seccomp syscall's number where Node runs (<asm/unistd_64.h>, <asm-generic/unistd.h>) */
const SYS_seccomp: Record<string, number> = { x64: 317, arm64: 277 };

/** struct seccomp_data offsets: nr, arch, then six 64-bit arguments from SECCOMP_DATA_ARGS */
export const SECCOMP_DATA_NR = 0;
export const SECCOMP_DATA_ARCH = 4;
export const SECCOMP_DATA_ARGS = 16;

/** AUDIT_ARCH_* tags (<linux/audit.h>) */
export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_AARCH64 = 0xc00000b7;
export const AUDIT_ARCH_I386 = 0x40000003;
export const AUDIT_ARCH_ARM = 0x40000028;
/** x32 calls arrive on x86_64 with this bit set in the number */
export const X32_SYSCALL_BIT = 0x40000000;

koffi.struct('tsc_sock_fprog', { len: 'uint16_t', filter: 'void *' });
const _seccomp = libc.func('long syscall(long nr, unsigned int op, unsigned int flags, tsc_sock_fprog *prog)');

/**
 * Installs the program on every thread of the process (needs CAP_SYS_ADMIN or no_new_privs):
 * TSYNC, so no thread of the process is left unfiltered. The kernel refuses (returning the
 * thread's id) when another thread has a filter that is not an ancestor of this one.
 */
export function installFilter(program: Buffer, ctx = 'install the seccomp filter'): void {
  const nr = SYS_seccomp[process.arch];
  if (nr === undefined) throw new SyscallError('seccomp', E.ENOSYS, `${ctx} (no seccomp syscall number for ${process.arch})`);
  const r = check(Number(_seccomp(nr, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, { len: program.length / 8, filter: program })), 'seccomp', ctx);
  if (r > 0) throw new TscError('SYSCALL', `${ctx}: thread ${r} of the process cannot take the filter (it has another one)`);
}
