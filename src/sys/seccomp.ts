/**
 * Seccomp filters: a classic-BPF program that returns EPERM for a set of syscall numbers and
 * allows everything else, installed with prctl(PR_SET_SECCOMP). The policy (which syscalls)
 * belongs to the caller; this file only assembles and installs the program.
 */
import { koffi, libc, check } from './libc.js';

const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_JGE_K = 0x35;
const BPF_RET_K = 0x06;
const SECCOMP_RET_ALLOW = 0x7fff0000;
const SECCOMP_RET_ERRNO = 0x00050000;
const EPERM = 1;
const ENOSYS = 38;
const PR_SET_SECCOMP = 22;
const SECCOMP_MODE_FILTER = 2;

/** seccomp_data offsets */
const OFF_NR = 0;
const OFF_ARCH = 4;

export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_AARCH64 = 0xc00000b7;
const X32_SYSCALL_BIT = 0x40000000;

type Insn = [code: number, jt: number, jf: number, k: number];

/**
 * Builds the program: calls from another architecture (32-bit compat, x32) fail with ENOSYS,
 * the listed numbers fail with EPERM, the rest are allowed.
 */
export function buildDenyFilter(arch: number, denied: number[]): Buffer {
  const nrs = [...new Set(denied)].sort((a, b) => a - b);
  const prog: Insn[] = [];
  prog.push([BPF_LD_W_ABS, 0, 0, OFF_ARCH]);
  prog.push([BPF_JEQ_K, 1, 0, arch]);
  prog.push([BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | ENOSYS]);
  prog.push([BPF_LD_W_ABS, 0, 0, OFF_NR]);
  if (arch === AUDIT_ARCH_X86_64) {
    prog.push([BPF_JGE_K, 0, 1, X32_SYSCALL_BIT]);
    prog.push([BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | ENOSYS]);
  }
  // One jump per number; each jumps to the shared EPERM return at the end.
  nrs.forEach((nr, i) => {
    const remaining = nrs.length - i - 1;
    prog.push([BPF_JEQ_K, remaining + 1, 0, nr]);
  });
  prog.push([BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW]);
  prog.push([BPF_RET_K, 0, 0, SECCOMP_RET_ERRNO | EPERM]);
  if (prog.length > 4096) throw new Error('seccomp program too long');
  const buf = Buffer.alloc(prog.length * 8);
  prog.forEach(([code, jt, jf, k], i) => {
    buf.writeUInt16LE(code, i * 8);
    buf.writeUInt8(jt, i * 8 + 2);
    buf.writeUInt8(jf, i * 8 + 3);
    buf.writeUInt32LE(k >>> 0, i * 8 + 4);
  });
  return buf;
}

koffi.struct('tsc_sock_fprog', { len: 'uint16_t', filter: 'void *' });
const _prctlFilter = libc.func('int prctl(int option, unsigned long mode, tsc_sock_fprog *prog, unsigned long a4, unsigned long a5)');

/** Installs the program on the calling thread (needs CAP_SYS_ADMIN or no_new_privs). */
export function installFilter(program: Buffer, ctx = 'install the seccomp filter'): void {
  check(_prctlFilter(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, { len: program.length / 8, filter: program }, 0, 0), 'prctl', ctx);
}
