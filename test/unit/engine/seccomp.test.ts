import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUDIT_ARCH_AARCH64, AUDIT_ARCH_ARM, AUDIT_ARCH_I386, AUDIT_ARCH_X86_64 } from '../../../src/sys/seccomp.js';
import {
  BPF_MAXINSNS,
  RULES,
  SYSCALL_TABLES,
  profileProgram as defaultProgram,
  kernelVersion,
  ruleApplies,
  type SeccompArch,
  type SyscallTable,
} from '../../../src/engine/init/seccomp/index.js';
import { runFilter } from './seccomp-run.js';
import { Assembler, BPF_JEQ_K, BPF_LD_W_ABS, BPF_RET_K } from '../../../src/engine/init/seccomp/asm.js';
import { CAPABILITY_NAMES, DEFAULT_CAPABILITIES } from '../../../src/engine/spec.js';

const ALLOW = 0x7fff0000;
const EPERM = 0x00050001;
const ENOSYS = 0x00050026;
const run = runFilter;
const ARCH = { amd64: AUDIT_ARCH_X86_64, x86: AUDIT_ARCH_I386, x32: AUDIT_ARCH_X86_64, arm64: AUDIT_ARCH_AARCH64, arm: AUDIT_ARCH_ARM };
/** where a numbering's calls start (x32's carry bit 30) */
const BASE: Partial<Record<SyscallTable, number>> = { x32: 0x40000000 };
const KERNEL: [number, number] = [6, 18];

const TABLES = ['amd64', 'x86', 'x32', 'arm64', 'arm'] as const;
const NAME_OF = Object.fromEntries(TABLES.map((t) => [t, new Map(Object.entries(SYSCALL_TABLES[t]).map(([k, v]) => [v, k]))]));
const LAST = new Map<string, number>();
/** The profile read the simple way, straight from Docker's rules: the oracle the program must agree with. */
function reference(arch: SeccompArch, table: SyscallTable, caps: readonly string[], nr: number, args: bigint[]): number {
  const applied = RULES.filter((r) => ruleApplies(r, { arch, caps, kernel: KERNEL }));
  // the highest number the container's rules name in this numbering (runc's ENOSYS for newer calls)
  const key = `${arch} ${table} ${caps.join()}`;
  if (!LAST.has(key)) LAST.set(key, Math.max(...applied.flatMap((r) => r.names.map((n) => SYSCALL_TABLES[table][n] ?? -1))));
  if (nr > LAST.get(key)!) return ENOSYS;
  const name = NAME_OF[table].get(nr);
  const rules = applied.filter((r) => name && r.names.includes(name));
  const verdict = (r: (typeof RULES)[number]) => (r.verdict.action === 'allow' ? ALLOW : 0x00050000 | (r.verdict.action === 'errno' ? r.verdict.errno : 0));
  const plain = rules.find((r) => !r.args?.length);
  if (plain) return verdict(plain);
  const cmp = (a: bigint, op: string, v: bigint, v2: bigint) =>
    ({ EQ: a === v, NE: a !== v, LT: a < v, LE: a <= v, GT: a > v, GE: a >= v, MASKED_EQ: (a & v) === v2 })[op];
  for (const r of rules) if (r.args!.every((c) => cmp(args[c.index] ?? 0n, c.op, BigInt(c.value), BigInt(c.valueTwo)))) return verdict(r);
  return EPERM;
}

const CAP_SETS: Record<string, readonly string[]> = {
  default: DEFAULT_CAPABILITIES,
  'SYS_ADMIN added': [...DEFAULT_CAPABILITIES, 'SYS_ADMIN'],
  'SYS_PTRACE, SYS_TIME, DAC_READ_SEARCH added': [...DEFAULT_CAPABILITIES, 'SYS_PTRACE', 'SYS_TIME', 'DAC_READ_SEARCH'],
  all: CAPABILITY_NAMES,
};
const ARG_SAMPLES: bigint[] = [
  0n,
  2n,
  8n,
  38n,
  39n,
  40n,
  41n,
  0x20000n,
  0x20008n,
  0xffffffffn,
  0x100000000n,
  0x10000000n,
  0x11200n,
  0x7e020000n,
  2n ** 64n - 1n,
];
const nr = (arch: SeccompArch, name: string) => SYSCALL_TABLES[arch][name];
const SYSCALLS_X32 = SYSCALL_TABLES.x32;

describe('seccomp: Docker default profile as BPF', () => {
  const numberings: Array<[SeccompArch, SyscallTable]> = [
    ['amd64', 'amd64'],
    ['amd64', 'x86'],
    ['amd64', 'x32'],
    ['arm64', 'arm64'],
    ['arm64', 'arm'],
  ];
  // every number up to 600 from the numbering's base; arm's private calls (0xf0000 + n) and beyond
  const numbers = (t: SyscallTable) => [
    ...Array.from({ length: 600 }, (_, i) => (BASE[t] ?? 0) + i),
    ...(t === 'arm' ? Array.from({ length: 10 }, (_, i) => 0xf0000 + i) : []),
    0xffffffff,
  ];
  for (const [arch, table] of numberings) {
    for (const [label, caps] of Object.entries(CAP_SETS)) {
      it(`${arch} (${table} calls), ${label}: every syscall number and argument sample agrees with the profile`, () => {
        const prog = defaultProgram(arch, caps, KERNEL);
        expect(prog.length / 8).toBeLessThan(BPF_MAXINSNS);
        for (const n of numbers(table)) {
          for (const a of ARG_SAMPLES) {
            const args = [a, a, 0n, 0n, 0n, 0n];
            const got = run(prog, ARCH[table], n, args);
            if (got !== reference(arch, table, caps, n, args)) throw new Error(`nr ${n} arg ${a}: got ${got.toString(16)}`);
          }
        }
      });
    }
  }

  it('refuses what Docker refuses, with its errno', () => {
    const prog = defaultProgram('amd64', DEFAULT_CAPABILITIES, KERNEL);
    const call = (name: string, ...args: bigint[]) => run(prog, AUDIT_ARCH_X86_64, nr('amd64', name), args);
    for (const name of ['mount', 'umount2', 'unshare', 'setns', 'keyctl', 'add_key', 'request_key', 'bpf', 'perf_event_open', 'userfaultfd']) {
      expect(call(name), name).toBe(EPERM);
    }
    for (const name of ['init_module', 'finit_module', 'delete_module', 'kexec_load', 'kexec_file_load', 'open_by_handle_at', 'reboot', 'swapon']) {
      expect(call(name), name).toBe(EPERM);
    }
    expect(call('clone3')).toBe(ENOSYS); // glibc falls back to clone
    expect(call('clone', 0x11n)).toBe(ALLOW); // SIGCHLD | CLONE_VM-less fork
    expect(call('clone', 0x20000n | 0x11n)).toBe(EPERM); // CLONE_NEWNS
    expect(call('clone', 0x10000000n)).toBe(EPERM); // CLONE_NEWUSER
    expect(call('socket', 2n)).toBe(ALLOW); // AF_INET
    expect(call('socket', 40n)).toBe(EPERM); // AF_VSOCK
    expect(call('personality', 0xffffffffn)).toBe(ALLOW); // query
    expect(call('personality', 0x0040000n)).toBe(EPERM); // ADDR_NO_RANDOMIZE
    expect(call('ptrace')).toBe(ALLOW); // kernel ≥ 4.8, as Docker
    expect(call('read')).toBe(ALLOW);
    expect(run(prog, AUDIT_ARCH_X86_64, 1000)).toBe(ENOSYS); // newer than the profile
    expect(run(prog, AUDIT_ARCH_X86_64, SYSCALLS_X32.write)).toBe(ALLOW); // x32, as Docker
    expect(run(prog, AUDIT_ARCH_X86_64, SYSCALLS_X32.mount)).toBe(EPERM);
    expect(run(prog, AUDIT_ARCH_X86_64, SYSCALLS_X32.keyctl)).toBe(EPERM);
    expect(run(prog, AUDIT_ARCH_X86_64, 0x40000000 + 1000)).toBe(ENOSYS); // newer than the profile
    expect(run(prog, AUDIT_ARCH_I386, SYSCALL_TABLES.x86.read)).toBe(ALLOW); // 32-bit programs, as Docker
    expect(run(prog, AUDIT_ARCH_I386, SYSCALL_TABLES.x86.mount)).toBe(EPERM);
    expect(run(prog, AUDIT_ARCH_I386, SYSCALL_TABLES.x86.keyctl)).toBe(EPERM);
    expect(run(prog, AUDIT_ARCH_ARM, 1)).toBe(ENOSYS); // 32-bit arm calls never reach an x86_64 kernel: no section
  });

  it('lets a granted capability enable its calls (cap_add: SYS_ADMIN enables mount, unshare, clone with namespace flags)', () => {
    const prog = defaultProgram('amd64', [...DEFAULT_CAPABILITIES, 'SYS_ADMIN'], KERNEL);
    const call = (name: string, ...args: bigint[]) => run(prog, AUDIT_ARCH_X86_64, nr('amd64', name), args);
    expect(call('mount')).toBe(ALLOW);
    expect(call('unshare')).toBe(ALLOW);
    expect(call('clone3')).toBe(ALLOW);
    expect(call('clone', 0x20000n)).toBe(ALLOW);
    expect(call('keyctl')).toBe(EPERM); // no capability enables it
    expect(call('init_module')).toBe(EPERM);
  });

  it('keeps ptrace refused on kernels before 4.8 without SYS_PTRACE (minKernel)', () => {
    const prog = defaultProgram('amd64', DEFAULT_CAPABILITIES, [4, 4]);
    expect(run(prog, AUDIT_ARCH_X86_64, nr('amd64', 'ptrace'))).toBe(EPERM);
  });

  it('uses each architecture its own numbers (aarch64: arm-only calls allowed, arch_prctl unknown)', () => {
    const prog = defaultProgram('arm64', DEFAULT_CAPABILITIES, KERNEL);
    expect(run(prog, AUDIT_ARCH_AARCH64, nr('arm64', 'mount'))).toBe(EPERM);
    expect(run(prog, AUDIT_ARCH_AARCH64, nr('arm64', 'openat'))).toBe(ALLOW);
    expect(SYSCALL_TABLES.arm64.arch_prctl).toBeUndefined();
    expect(run(prog, AUDIT_ARCH_X86_64, 0)).toBe(ENOSYS);
    expect(run(prog, AUDIT_ARCH_ARM, SYSCALL_TABLES.arm.getpid)).toBe(ALLOW); // 32-bit arm programs, as Docker
    expect(run(prog, AUDIT_ARCH_ARM, SYSCALL_TABLES.arm.set_tls)).toBe(ALLOW); // an ARM-private call
    expect(run(prog, AUDIT_ARCH_ARM, SYSCALL_TABLES.arm.mount)).toBe(EPERM);
  });

  it('the generated profile and tables are what scripts/gen-seccomp.mjs makes from the JSON and the installed headers', () => {
    const r = spawnSync(process.execPath, [path.join(__dirname, '../../../scripts/gen-seccomp.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('reads the running kernel version', () => {
    expect(kernelVersion('6.18.44-fc-v1147')).toEqual([6, 18]);
    expect(kernelVersion('garbage')).toEqual([0, 0]);
  });
});

describe('seccomp assembler', () => {
  it('rewrites a conditional jump over more than 255 instructions', () => {
    const a = new Assembler();
    const far = a.label();
    const near = a.label();
    a.op(BPF_LD_W_ABS, 0);
    a.jump(BPF_JEQ_K, 7, far, near);
    a.bind(near);
    for (let i = 0; i < 300; i++) a.op(BPF_RET_K, EPERM);
    a.bind(far);
    a.op(BPF_RET_K, ALLOW);
    const prog = a.assemble();
    expect(run(prog, 0, 7)).toBe(ALLOW);
    expect(run(prog, 0, 8)).toBe(EPERM);
  });

  it('refuses a program over the kernel limit', () => {
    const a = new Assembler();
    for (let i = 0; i <= BPF_MAXINSNS; i++) a.op(BPF_RET_K, ALLOW);
    expect(() => a.assemble()).toThrow(/over the kernel's limit of 4096/);
  });
});
