/** The seccomp tests' interpreter. */

/** Runs a classic-BPF seccomp program on one call, as the kernel does. */
export function runFilter(prog: Buffer, arch: number, nr: number, args: bigint[] = []): number {
  const data = Buffer.alloc(64);
  data.writeUInt32LE(nr, 0);
  data.writeUInt32LE(arch, 4);
  args.forEach((v, i) => data.writeBigUInt64LE(v, 16 + 8 * i));
  let acc = 0;
  for (let pc = 0, steps = 0; pc < prog.length / 8; pc++, steps++) {
    const code = prog.readUInt16LE(pc * 8);
    const [jt, jf, k] = [prog[pc * 8 + 2], prog[pc * 8 + 3], prog.readUInt32LE(pc * 8 + 4)];
    if (code === 0x20) acc = data.readUInt32LE(k);
    else if (code === 0x54) acc = (acc & k) >>> 0;
    else if (code === 0x05) pc += k;
    else if (code === 0x15) pc += acc === k ? jt : jf;
    else if (code === 0x25) pc += acc > k ? jt : jf;
    else if (code === 0x35) pc += acc >= k ? jt : jf;
    else if (code === 0x06) return k;
    else throw new Error(`unknown opcode ${code.toString(16)} at ${pc}`);
  }
  throw new Error('fell off the program');
}
