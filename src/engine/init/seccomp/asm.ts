/**
 * A small classic-BPF assembler for seccomp programs: instructions with symbolic jump targets.
 * Conditional jumps carry 8-bit offsets; one whose target lies further away is rewritten as a
 * short conditional over two unconditional (32-bit) jumps, repeated until every offset fits.
 */

export const BPF_LD_W_ABS = 0x20;
export const BPF_ALU_AND_K = 0x54;
export const BPF_JA = 0x05;
export const BPF_JEQ_K = 0x15;
export const BPF_JGT_K = 0x25;
export const BPF_JGE_K = 0x35;
export const BPF_RET_K = 0x06;

/** The kernel's limit on a classic-BPF program (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;

export type Label = { readonly id: number };

type Item =
  | { kind: 'insn'; code: number; k: number }
  | { kind: 'jump'; code: number; k: number; t: Label; f: Label }
  | { kind: 'goto'; to: Label }
  | { kind: 'label'; label: Label };

export class Assembler {
  private items: Item[] = [];
  private next = 0;

  label(): Label {
    return { id: this.next++ };
  }
  /** Places `l` at the current position. */
  bind(l: Label): void {
    this.items.push({ kind: 'label', label: l });
  }
  /** A plain instruction (load, ALU, return). */
  op(code: number, k: number): void {
    this.items.push({ kind: 'insn', code, k: k >>> 0 });
  }
  /** `if (A <op> k) goto t else goto f` */
  jump(code: number, k: number, t: Label, f: Label): void {
    this.items.push({ kind: 'jump', code, k: k >>> 0, t, f });
  }
  goto(to: Label): void {
    this.items.push({ kind: 'goto', to });
  }

  /** The program as the kernel takes it (struct sock_filter[]). Throws when it is over BPF_MAXINSNS. */
  assemble(): Buffer {
    const long = new Set<number>(); // indexes of jumps that need the long form
    for (;;) {
      const { pos, size } = this.layout(long);
      let grew = false;
      this.items.forEach((it, i) => {
        if (it.kind !== 'jump' || long.has(i)) return;
        const from = pos.itemAt[i] + 1;
        if (pos.label[it.t.id] - from > 255 || pos.label[it.f.id] - from > 255) {
          long.add(i);
          grew = true;
        }
      });
      if (grew) continue;
      if (size > BPF_MAXINSNS) throw new Error(`seccomp program has ${size} instructions, over the kernel's limit of ${BPF_MAXINSNS}`);
      return this.encode(pos, long, size);
    }
  }

  private layout(long: Set<number>) {
    const label: number[] = [];
    const itemAt: number[] = [];
    let n = 0;
    this.items.forEach((it, i) => {
      itemAt[i] = n;
      if (it.kind === 'label') label[it.label.id] = n;
      else n += it.kind === 'jump' && long.has(i) ? 3 : 1;
    });
    return { pos: { label, itemAt }, size: n };
  }

  private encode(pos: { label: number[]; itemAt: number[] }, long: Set<number>, size: number): Buffer {
    const buf = Buffer.alloc(size * 8);
    const put = (at: number, code: number, jt: number, jf: number, k: number) => {
      if (jt < 0 || jf < 0 || k < 0) throw new Error('seccomp assembler: backward jump');
      buf.writeUInt16LE(code, at * 8);
      buf.writeUInt8(jt, at * 8 + 2);
      buf.writeUInt8(jf, at * 8 + 3);
      buf.writeUInt32LE(k >>> 0, at * 8 + 4);
    };
    this.items.forEach((it, i) => {
      const at = pos.itemAt[i];
      if (it.kind === 'insn') put(at, it.code, 0, 0, it.k);
      else if (it.kind === 'goto') put(at, BPF_JA, 0, 0, pos.label[it.to.id] - at - 1);
      else if (it.kind === 'jump' && !long.has(i)) put(at, it.code, pos.label[it.t.id] - at - 1, pos.label[it.f.id] - at - 1, it.k);
      else if (it.kind === 'jump') {
        put(at, it.code, 0, 1, it.k);
        put(at + 1, BPF_JA, 0, 0, pos.label[it.t.id] - at - 2);
        put(at + 2, BPF_JA, 0, 0, pos.label[it.f.id] - at - 3);
      }
    });
    return buf;
  }
}
