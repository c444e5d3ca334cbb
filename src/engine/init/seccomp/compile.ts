/**
 * Turns a container's syscall policy (select.ts) into the classic-BPF program the kernel runs
 * on every call:
 *
 *   per architecture tag (x86_64, i386, aarch64, arm), a tag without a section → ENOSYS
 *   x86_64's tag: numbers with bit 30 set are x32 calls (x32's section, else ENOSYS)
 *   nr > lastKnown            → ENOSYS (a syscall newer than the profile), where runc checks it
 *   binary search over ranges of numbers with the same outcome → the verdict, or a block that
 *   tests the call's arguments (64-bit comparisons, two 32-bit halves each)
 *
 * A search instead of one comparison per syscall keeps a call's path to about ten instructions.
 */
import {
  AUDIT_ARCH_AARCH64,
  AUDIT_ARCH_ARM,
  AUDIT_ARCH_I386,
  AUDIT_ARCH_X86_64,
  SECCOMP_DATA_ARCH,
  SECCOMP_DATA_ARGS,
  SECCOMP_DATA_NR,
  SECCOMP_RET,
  SECCOMP_RET_ERRNO,
  X32_SYSCALL_BIT,
} from '../../../sys/seccomp.js';
import { Assembler, BPF_ALU_AND_K, BPF_JEQ_K, BPF_JGE_K, BPF_JGT_K, BPF_LD_W_ABS, BPF_RET_K, type Label } from './asm.js';
import type { ArgCondition, Verdict } from './profile.js';
import type { ConditionalRule, SyscallPolicy, SyscallTable } from './select.js';

const ENOSYS = 38;
/** x32 calls arrive with x86_64's tag; a section's numbers start at its base */
const AUDIT_ARCH: Record<SyscallTable, number> = {
  amd64: AUDIT_ARCH_X86_64,
  x32: AUDIT_ARCH_X86_64,
  x86: AUDIT_ARCH_I386,
  arm64: AUDIT_ARCH_AARCH64,
  arm: AUDIT_ARCH_ARM,
};
const BASE: Partial<Record<SyscallTable, number>> = { x32: X32_SYSCALL_BIT };
const verdictKey = (v: Verdict): string => (v.action === 'errno' ? `errno:${v.errno}` : v.action);

const hi32 = (v: number) => Math.floor(v / 2 ** 32) >>> 0;
const lo32 = (v: number) => v >>> 0;

/** A run of consecutive syscall numbers with one outcome. */
interface Range {
  start: number;
  key: string;
}

/** One numbering's policy: the calls whose seccomp_data.arch is that numbering's. */
export interface Section {
  table: SyscallTable;
  policy: SyscallPolicy;
}

export function compilePolicy(sections: Section[]): Buffer {
  const a = new Assembler();
  const returns = new Map<string, Label>();
  const ret = (v: Verdict): Label => {
    const key = verdictKey(v);
    let l = returns.get(key);
    if (!l) returns.set(key, (l = a.label()));
    return l;
  };
  const enosys = ret({ action: 'errno', errno: ENOSYS });
  const starts = new Map(sections.map((sec) => [sec.table, a.label()]));

  // one test per tag; x86_64's tag carries both x86_64 and x32 calls, told apart by bit 30
  const tags = [...new Set(sections.map((sec) => AUDIT_ARCH[sec.table]))];
  const tagBlocks = tags.map(() => a.label());
  a.op(BPF_LD_W_ABS, SECCOMP_DATA_ARCH);
  tags.forEach((tag, i) => {
    const next = a.label();
    a.jump(BPF_JEQ_K, tag, tagBlocks[i], next);
    a.bind(next);
  });
  a.goto(enosys); // an architecture without a section
  tags.forEach((tag, i) => {
    a.bind(tagBlocks[i]);
    if (tag !== AUDIT_ARCH_X86_64) return a.goto(starts.get(sections.find((sec) => AUDIT_ARCH[sec.table] === tag)!.table)!);
    const low = a.label();
    a.op(BPF_LD_W_ABS, SECCOMP_DATA_NR);
    a.jump(BPF_JGE_K, X32_SYSCALL_BIT, starts.get('x32') ?? enosys, low);
    a.bind(low);
    a.goto(starts.get('amd64') ?? enosys);
  });
  for (const sec of sections) {
    a.bind(starts.get(sec.table)!);
    section(a, sec, ret, enosys);
  }
  for (const [key, l] of returns) {
    a.bind(l);
    a.op(BPF_RET_K, key.startsWith('errno:') ? SECCOMP_RET_ERRNO | (Number(key.slice(6)) & 0xffff) : SECCOMP_RET[key as keyof typeof SECCOMP_RET]);
  }
  return a.assemble();
}

/** The code for one numbering, entered with its calls: number checks, the search, the argument blocks. */
function section(a: Assembler, { table, policy }: Section, ret: (v: Verdict) => Label, enosys: Label): void {
  const base = BASE[table] ?? 0;
  const end = policy.lastKnown ?? 0xffffffff;
  a.op(BPF_LD_W_ABS, SECCOMP_DATA_NR);
  if (policy.lastKnown !== undefined) {
    const known = a.label();
    a.jump(BPF_JGT_K, policy.lastKnown, enosys, known);
    a.bind(known);
  }

  // Ranges of equal outcome over base..end; each conditional syscall is a range of its own.
  const blocks = new Map<number, Label>();
  const keyOf = (nr: number): string => {
    const r = policy.rules.get(nr) ?? policy.fallback;
    return Array.isArray(r) ? `cond:${nr}` : verdictKey(r);
  };
  const ranges: Range[] = [];
  const push = (start: number, key: string) => {
    const last = ranges[ranges.length - 1];
    if (!last || last.key !== key || key.startsWith('cond:')) ranges.push({ start, key });
  };
  let next = base;
  for (const nr of [...policy.rules.keys()].filter((n) => n >= base && n <= end).sort((x, y) => x - y)) {
    if (nr > next) push(next, verdictKey(policy.fallback));
    push(nr, keyOf(nr));
    next = nr + 1;
  }
  if (next <= end) push(next, verdictKey(policy.fallback));
  const target = (key: string): Label => {
    if (!key.startsWith('cond:')) return ret(key.startsWith('errno:') ? { action: 'errno', errno: Number(key.slice(6)) } : ({ action: key } as Verdict));
    const nr = Number(key.slice(5));
    let l = blocks.get(nr);
    if (!l) blocks.set(nr, (l = a.label()));
    return l;
  };
  const search = (lo: number, hi: number): void => {
    if (lo === hi) return a.goto(target(ranges[lo].key));
    const mid = (lo + hi + 1) >> 1;
    const left = a.label();
    const right = a.label();
    a.jump(BPF_JGE_K, ranges[mid].start, right, left);
    a.bind(left);
    search(lo, mid - 1);
    a.bind(right);
    search(mid, hi);
  };
  search(0, ranges.length - 1);

  for (const [nr, l] of blocks) {
    a.bind(l);
    for (const rule of policy.rules.get(nr) as ConditionalRule[]) {
      const next = a.label();
      for (const c of rule.args) argTest(a, c, next);
      a.goto(ret(rule.verdict));
      a.bind(next);
    }
    a.goto(ret(policy.fallback));
  }
}

/** Falls through when `arg <op> value` holds (64-bit, unsigned, as libseccomp), else jumps to `fail`. */
function argTest(a: Assembler, c: ArgCondition, fail: Label): void {
  const off = SECCOMP_DATA_ARGS + 8 * c.index; // little-endian: low half first
  const pass = a.label();
  const [cmp, ref] = c.op === 'MASKED_EQ' ? [c.valueTwo, c.value] : [c.value, 0];
  const [h, l] = [hi32(cmp), lo32(cmp)];
  const hiEqual = a.label();
  a.op(BPF_LD_W_ABS, off + 4);
  switch (c.op) {
    case 'EQ':
    case 'NE':
    case 'MASKED_EQ': {
      if (c.op === 'MASKED_EQ') a.op(BPF_ALU_AND_K, hi32(ref));
      a.jump(BPF_JEQ_K, h, hiEqual, c.op === 'NE' ? pass : fail);
      a.bind(hiEqual);
      a.op(BPF_LD_W_ABS, off);
      if (c.op === 'MASKED_EQ') a.op(BPF_ALU_AND_K, lo32(ref));
      if (c.op === 'NE') a.jump(BPF_JEQ_K, l, fail, pass);
      else a.jump(BPF_JEQ_K, l, pass, fail);
      break;
    }
    default: {
      // GT/GE: a higher high half passes; LT/LE: it fails. An equal high half compares the low halves.
      const greater = c.op === 'GT' || c.op === 'GE';
      const notGreater = a.label();
      a.jump(BPF_JGT_K, h, greater ? pass : fail, notGreater);
      a.bind(notGreater);
      a.jump(BPF_JEQ_K, h, hiEqual, greater ? fail : pass);
      a.bind(hiEqual);
      a.op(BPF_LD_W_ABS, off);
      if (c.op === 'GT') a.jump(BPF_JGT_K, l, pass, fail);
      else if (c.op === 'GE') a.jump(BPF_JGE_K, l, pass, fail);
      else if (c.op === 'LT') a.jump(BPF_JGE_K, l, fail, pass);
      else a.jump(BPF_JGT_K, l, fail, pass); // LE
    }
  }
  a.bind(pass);
}
