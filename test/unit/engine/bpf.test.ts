import { describe, expect, it } from 'vitest';
import { buildDeviceProgram, parseDeviceRule } from '../../../src/sys/bpf.js';

/** Runs the subset of eBPF the device program uses, on ctx = (type | access << 16, major, minor). */
function run(prog: Buffer, type: number, access: number, major: number, minor: number): number {
  const ctx = [type | (access << 16), major, minor];
  const r = new Array<number>(11).fill(0);
  for (let pc = 0; pc < prog.length / 8; pc++) {
    const o = pc * 8;
    const code = prog[o];
    const dst = prog[o + 1] & 0xf;
    const src = prog[o + 1] >> 4;
    const off = prog.readInt16LE(o + 2);
    const imm = prog.readInt32LE(o + 4);
    switch (code) {
      case 0x61:
        r[dst] = ctx[off / 4];
        break;
      case 0x54:
        r[dst] = (r[dst] & imm) >>> 0;
        break;
      case 0x74:
        r[dst] = r[dst] >>> imm;
        break;
      case 0xbf:
        r[dst] = r[src];
        break;
      case 0xb7:
        r[dst] = imm;
        break;
      case 0x55:
        if (r[dst] !== imm) pc += off;
        break;
      case 0x5d:
        if (r[dst] !== r[src]) pc += off;
        break;
      case 0x95:
        return r[0];
      default:
        throw new Error(`unexpected opcode ${code.toString(16)}`);
    }
  }
  throw new Error('fell off the program');
}

const CHAR = 2;
const BLOCK = 1;
const MKNOD = 1;
const READ = 2;
const WRITE = 4;

describe('device filter program', () => {
  const prog = buildDeviceProgram(['c *:* m', 'b *:* m', 'c 1:3 rwm', 'c 136:* rwm', 'c 10:229 r'].map(parseDeviceRule));

  it('allows what the rules list', () => {
    expect(run(prog, CHAR, READ | WRITE, 1, 3)).toBe(1);
    expect(run(prog, CHAR, MKNOD, 10, 200)).toBe(1);
    expect(run(prog, BLOCK, MKNOD, 254, 0)).toBe(1);
    expect(run(prog, CHAR, READ, 136, 7)).toBe(1);
    expect(run(prog, CHAR, READ, 10, 229)).toBe(1);
  });

  it('refuses everything else', () => {
    expect(run(prog, BLOCK, READ, 254, 0)).toBe(0);
    expect(run(prog, CHAR, READ, 1, 4)).toBe(0);
    expect(run(prog, CHAR, READ | WRITE, 10, 229)).toBe(0);
  });

  it('parses rules like the v1 devices controller', () => {
    expect(parseDeviceRule('c 1:3 rwm')).toEqual({ type: 'c', major: 1, minor: 3, access: 7 });
    expect(parseDeviceRule('b *:* m')).toEqual({ type: 'b', major: -1, minor: -1, access: 1 });
    expect(parseDeviceRule('a')).toEqual({ type: 'a', major: -1, minor: -1, access: 7 });
    expect(() => parseDeviceRule('x 1:2 r')).toThrow(/invalid device rule/);
  });
});
