import { describe, expect, it } from 'vitest';
import { AUDIT_ARCH_X86_64, buildDenyFilter } from '../../../src/sys/seccomp.js';
import { deniedSyscalls } from '../../../src/engine/init/seccomp.js';
import { DEFAULT_CAPABILITIES } from '../../../src/engine/spec.js';

function decode(buf: Buffer) {
  const out: Array<[number, number, number, number]> = [];
  for (let i = 0; i < buf.length; i += 8) out.push([buf.readUInt16LE(i), buf[i + 2], buf[i + 3], buf.readUInt32LE(i + 4)]);
  return out;
}

/** Runs the classic-BPF program on (arch, nr) the way the kernel would. */
function evaluate(prog: ReturnType<typeof decode>, arch: number, nr: number): number {
  let acc = 0;
  for (let pc = 0; pc < prog.length; pc++) {
    const [code, jt, jf, k] = prog[pc];
    if (code === 0x20) acc = k === 4 ? arch : nr;
    else if (code === 0x15) pc += acc === k ? jt : jf;
    else if (code === 0x35) pc += acc >= k ? jt : jf;
    else if (code === 0x06) return k;
  }
  throw new Error('fell off the program');
}

describe('seccomp filter', () => {
  it('refuses listed numbers with EPERM, other arches and x32 with ENOSYS, allows the rest', () => {
    const prog = decode(buildDenyFilter(AUDIT_ARCH_X86_64, [165, 250, 101]));
    expect(evaluate(prog, AUDIT_ARCH_X86_64, 165)).toBe(0x00050001);
    expect(evaluate(prog, AUDIT_ARCH_X86_64, 101)).toBe(0x00050001);
    expect(evaluate(prog, AUDIT_ARCH_X86_64, 250)).toBe(0x00050001);
    expect(evaluate(prog, AUDIT_ARCH_X86_64, 0)).toBe(0x7fff0000);
    expect(evaluate(prog, AUDIT_ARCH_X86_64, 59)).toBe(0x7fff0000);
    expect(evaluate(prog, AUDIT_ARCH_X86_64, 0x40000000 + 1)).toBe(0x00050026);
    expect(evaluate(prog, 0x40000003, 1)).toBe(0x00050026);
  });

  it('lets a granted capability re-enable its syscalls', () => {
    const base = deniedSyscalls(DEFAULT_CAPABILITIES);
    expect(base).toContain(165); // mount
    expect(base).toContain(250); // keyctl
    const admin = deniedSyscalls([...DEFAULT_CAPABILITIES, 'SYS_ADMIN']);
    expect(admin).not.toContain(165);
    expect(admin).toContain(250);
  });
});
