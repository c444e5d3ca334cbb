/**
 * Seccomp: the kernel's constants for a filter program (return values, architecture tags,
 * the layout of struct seccomp_data) and installing a program with prctl(PR_SET_SECCOMP).
 * The policy and the program belong to the caller (src/engine/init/seccomp).
 */
import { koffi, libc, check } from './libc.js';

export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_ERRNO = 0x00050000;
const PR_SET_SECCOMP = 22;
const SECCOMP_MODE_FILTER = 2;

/** struct seccomp_data offsets: nr, arch, then six 64-bit arguments from SECCOMP_DATA_ARGS */
export const SECCOMP_DATA_NR = 0;
export const SECCOMP_DATA_ARCH = 4;
export const SECCOMP_DATA_ARGS = 16;

/** AUDIT_ARCH_* tags (<linux/audit.h>) */
export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_AARCH64 = 0xc00000b7;
export const AUDIT_ARCH_I386 = 0x40000003;
/** x32 calls arrive on x86_64 with this bit set in the number */
export const X32_SYSCALL_BIT = 0x40000000;

koffi.struct('tsc_sock_fprog', { len: 'uint16_t', filter: 'void *' });
const _prctlFilter = libc.func('int prctl(int option, unsigned long mode, tsc_sock_fprog *prog, unsigned long a4, unsigned long a5)');

/** Installs the program on the calling thread (needs CAP_SYS_ADMIN or no_new_privs). */
export function installFilter(program: Buffer, ctx = 'install the seccomp filter'): void {
  check(_prctlFilter(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, { len: program.length / 8, filter: program }, 0, 0), 'prctl', ctx);
}
