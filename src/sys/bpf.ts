/**
 * cgroup v2 device control: an eBPF program of type CGROUP_DEVICE, attached to a cgroup,
 * allows or refuses each device access (open/mknod) of its processes. Built here from a list
 * of allow rules (the same "c 1:3 rwm" rules as the v1 devices controller).
 */
import { SyscallError } from '../common/errors.js';
import { fns, koffi, libc } from './libc.js';

const SYS_bpf = 321;
const BPF_PROG_LOAD = 5;
const BPF_PROG_ATTACH = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE = 15;
const BPF_CGROUP_DEVICE = 6;
const BPF_F_ALLOW_MULTI = 2;

const DEV_BLOCK = 1;
const DEV_CHAR = 2;
const ACC_MKNOD = 1;
const ACC_READ = 2;
const ACC_WRITE = 4;

export interface DeviceRule {
  type: 'a' | 'b' | 'c';
  /** -1 = any */
  major: number;
  minor: number;
  /** bit set of ACC_MKNOD | ACC_READ | ACC_WRITE */
  access: number;
}

/** Parses "c 1:3 rwm" / "c *:* m" / "a" into a rule. */
export function parseDeviceRule(rule: string): DeviceRule {
  const m = /^([abc])(?:\s+(\*|\d+):(\*|\d+)\s+([rwm]+))?$/.exec(rule.trim());
  if (!m) throw new Error(`invalid device rule "${rule}"`);
  const num = (s: string | undefined) => (s === undefined || s === '*' ? -1 : Number(s));
  let access = ACC_MKNOD | ACC_READ | ACC_WRITE;
  if (m[4]) {
    access = 0;
    if (m[4].includes('r')) access |= ACC_READ;
    if (m[4].includes('w')) access |= ACC_WRITE;
    if (m[4].includes('m')) access |= ACC_MKNOD;
  }
  return { type: m[1] as DeviceRule['type'], major: num(m[2]), minor: num(m[3]), access };
}

type Insn = [code: number, dst: number, src: number, off: number, imm: number];

const LDX_W = 0x61;
const ALU32_AND_K = 0x54;
const ALU32_RSH_K = 0x74;
const ALU64_MOV_X = 0xbf;
const ALU64_MOV_K = 0xb7;
const JMP_JNE_K = 0x55;
const JMP_JNE_X = 0x5d;
const EXIT = 0x95;

/**
 * Assembles the program: r2 = device type, r3 = requested access, r4 = major, r5 = minor;
 * each rule is a block that jumps to the next block on mismatch and returns 1 on match;
 * the end returns 0 (refused).
 */
export function buildDeviceProgram(rules: DeviceRule[]): Buffer {
  const prog: Insn[] = [
    [LDX_W, 2, 1, 0, 0],
    [ALU32_AND_K, 2, 0, 0, 0xffff],
    [LDX_W, 3, 1, 0, 0],
    [ALU32_RSH_K, 3, 0, 0, 16],
    [LDX_W, 4, 1, 4, 0],
    [LDX_W, 5, 1, 8, 0],
  ];
  for (const r of rules) {
    const block: Insn[] = [];
    // Offsets to the end of the block are patched below (-1 marks "next block").
    if (r.type !== 'a') block.push([JMP_JNE_K, 2, 0, -1, r.type === 'c' ? DEV_CHAR : DEV_BLOCK]);
    // requested & allowed must equal requested
    block.push([ALU64_MOV_X, 1, 3, 0, 0]);
    block.push([ALU32_AND_K, 1, 0, 0, r.access]);
    block.push([JMP_JNE_X, 1, 3, -1, 0]);
    if (r.major >= 0) block.push([JMP_JNE_K, 4, 0, -1, r.major]);
    if (r.minor >= 0) block.push([JMP_JNE_K, 5, 0, -1, r.minor]);
    block.push([ALU64_MOV_K, 0, 0, 0, 1]);
    block.push([EXIT, 0, 0, 0, 0]);
    block.forEach((ins, i) => {
      if (ins[3] === -1) ins[3] = block.length - i - 1;
    });
    prog.push(...block);
  }
  prog.push([ALU64_MOV_K, 0, 0, 0, 0]);
  prog.push([EXIT, 0, 0, 0, 0]);
  const buf = Buffer.alloc(prog.length * 8);
  prog.forEach(([code, dst, src, off, imm], i) => {
    buf.writeUInt8(code, i * 8);
    buf.writeUInt8((src << 4) | dst, i * 8 + 1);
    buf.writeInt16LE(off, i * 8 + 2);
    buf.writeInt32LE(imm | 0, i * 8 + 4);
  });
  return buf;
}

koffi.struct('tsc_bpf_prog_load', {
  prog_type: 'uint32_t',
  insn_cnt: 'uint32_t',
  insns: 'void *',
  license: 'const char *',
  log_level: 'uint32_t',
  log_size: 'uint32_t',
  log_buf: 'void *',
  kern_version: 'uint32_t',
  prog_flags: 'uint32_t',
  prog_name: koffi.array('uint8_t', 16),
  prog_ifindex: 'uint32_t',
  expected_attach_type: 'uint32_t',
  pad: koffi.array('uint8_t', 56),
});
koffi.struct('tsc_bpf_attach', {
  target_fd: 'uint32_t',
  attach_bpf_fd: 'uint32_t',
  attach_type: 'uint32_t',
  attach_flags: 'uint32_t',
  replace_bpf_fd: 'uint32_t',
  pad: koffi.array('uint8_t', 44),
});
const _bpfLoad = libc.func('long syscall(long nr, int cmd, tsc_bpf_prog_load *attr, unsigned int size)');
const _bpfAttach = libc.func('long syscall(long nr, int cmd, tsc_bpf_attach *attr, unsigned int size)');
const { open: _open, close: _close } = fns;

const O_RDONLY = 0;
const O_DIRECTORY = 0o200000;
const O_CLOEXEC = 0o2000000;

/** Loads the program for `rules` and attaches it to the cgroup v2 directory `cgroupDir`. */
export function attachDeviceFilter(cgroupDir: string, rules: DeviceRule[]): void {
  const insns = buildDeviceProgram(rules);
  const load = (log: Buffer | null) =>
    Number(
      _bpfLoad(
        SYS_bpf,
        BPF_PROG_LOAD,
        {
          prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
          insn_cnt: insns.length / 8,
          insns,
          license: 'Apache-2.0',
          log_level: log ? 1 : 0,
          log_size: log ? log.length : 0,
          log_buf: log,
          kern_version: 0,
          prog_flags: 0,
          prog_name: Array.from(Buffer.from('tsc_devices\0\0\0\0\0')),
          prog_ifindex: 0,
          expected_attach_type: 0,
          pad: new Array(56).fill(0),
        },
        128,
      ),
    );
  const progFd = load(null);
  if (progFd < 0) {
    const errno = koffi.errno();
    // Load again with the verifier's log to say why.
    const log = Buffer.alloc(65536);
    const again = load(log);
    if (again >= 0) _close(again);
    const text = log
      .toString('utf8', 0, Math.max(0, log.indexOf(0)))
      .trim()
      .split('\n')
      .slice(-3)
      .join(' / ');
    throw new SyscallError('bpf', errno, `load the device filter for ${cgroupDir}${text ? ` (verifier: ${text.slice(0, 300)})` : ''}`);
  }
  try {
    const cgFd = _open(cgroupDir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (cgFd < 0) throw new SyscallError('open', koffi.errno(), `open cgroup ${cgroupDir}`);
    try {
      const r = Number(
        _bpfAttach(
          SYS_bpf,
          BPF_PROG_ATTACH,
          {
            target_fd: cgFd,
            attach_bpf_fd: progFd,
            attach_type: BPF_CGROUP_DEVICE,
            attach_flags: BPF_F_ALLOW_MULTI,
            replace_bpf_fd: 0,
            pad: new Array(44).fill(0),
          },
          64,
        ),
      );
      if (r < 0) throw new SyscallError('bpf', koffi.errno(), `attach the device filter to ${cgroupDir}`);
    } finally {
      _close(cgFd);
    }
  } finally {
    // the attachment keeps the program alive; it goes with the cgroup
    _close(progFd);
  }
}
