/**
 * A container cgroup's limits as file writes: memory, cpu, cpuset, pids and device access, each
 * in the hierarchy (v1 or v2) that holds its controller.
 */
import path from 'node:path';
import { existsSync } from 'node:fs';
import type { Resources } from '../spec.js';
import { attachDeviceFilter, parseDeviceRule } from '../../sys/bpf.js';
import { cgErr, writeFile } from './files.js';
import type { ContainerCgroup } from './cgroup.js';

export interface CgroupOptions {
  /** 'default' restricts device access to Docker's default list (v1 devices controller); 'all' allows every device (privileged). */
  devices?: 'default' | 'all';
  /** extra device rules ("c 10:229 rwm") allowed on top of the default list */
  extraDeviceRules?: string[];
  /** do not load the v2 eBPF device filter (unit tests writing into a temp dir) */
  skipDeviceFilter?: boolean;
}

/** Docker's default device rules (char/block mknod anywhere; read/write only the basic nodes). */
const DEFAULT_DEVICE_RULES = [
  'c *:* m',
  'b *:* m',
  'c 1:3 rwm',
  'c 1:5 rwm',
  'c 1:7 rwm',
  'c 1:8 rwm',
  'c 1:9 rwm',
  'c 5:0 rwm',
  'c 5:1 rwm',
  'c 5:2 rwm',
  'c 136:* rwm',
  'c 10:200 rwm',
];

/** Docker's cpu_shares (2..262144) → cgroup v2 cpu.weight (1..10000), the runc/crun formula. */
function sharesToWeight(shares: number): number {
  if (shares <= 0) return 100;
  return 1 + Math.floor(((Math.min(Math.max(shares, 2), 262144) - 2) * 9999) / 262142);
}

/** Writes the resource limits into `cg` (used by create; callable again to update). */
export function writeLimits(cg: ContainerCgroup, res: Resources, opts: CgroupOptions = {}): void {
  const L = cg.layout;
  // memory
  if (L.v1.memory) {
    const d = cg.v1Dir('memory')!;
    if (res.memory !== undefined) {
      writeFile(cg, d, 'memory.limit_in_bytes', res.memory);
      const memsw = res.memorySwap ?? res.memory * 2;
      const swFile = path.join(d, 'memory.memsw.limit_in_bytes');
      // memsw exists only with swap accounting on; without it the memory limit alone applies.
      if (existsSync(swFile)) writeFile(cg, d, 'memory.memsw.limit_in_bytes', memsw < 0 ? -1 : memsw);
    }
    if (res.memoryReservation !== undefined) writeFile(cg, d, 'memory.soft_limit_in_bytes', res.memoryReservation);
  } else if (cg.v2Has('memory')) {
    const d = cg.v2Dir()!;
    if (res.memory !== undefined) {
      writeFile(cg, d, 'memory.max', res.memory);
      const memsw = res.memorySwap ?? res.memory * 2;
      // memory.swap.max exists only when the kernel accounts swap.
      if (existsSync(path.join(d, 'memory.swap.max'))) {
        writeFile(cg, d, 'memory.swap.max', memsw < 0 ? 'max' : Math.max(0, memsw - res.memory));
      }
    }
    if (res.memoryReservation !== undefined) writeFile(cg, d, 'memory.low', res.memoryReservation);
  }
  // cpu
  if (L.v1.cpu) {
    const d = cg.v1Dir('cpu')!;
    if (res.cpuPeriod !== undefined || res.cpuQuota !== undefined) {
      writeFile(cg, d, 'cpu.cfs_period_us', res.cpuPeriod ?? 100000);
      writeFile(cg, d, 'cpu.cfs_quota_us', res.cpuQuota ?? -1);
    }
    if (res.cpuShares !== undefined) writeFile(cg, d, 'cpu.shares', res.cpuShares);
  } else if (cg.v2Has('cpu')) {
    const d = cg.v2Dir()!;
    if (res.cpuPeriod !== undefined || res.cpuQuota !== undefined) {
      const q = res.cpuQuota !== undefined && res.cpuQuota > 0 ? String(res.cpuQuota) : 'max';
      writeFile(cg, d, 'cpu.max', `${q} ${res.cpuPeriod ?? 100000}`);
    }
    if (res.cpuShares !== undefined) writeFile(cg, d, 'cpu.weight', sharesToWeight(res.cpuShares));
  }
  // cpuset
  const cpusetDir = L.v1.cpuset ? cg.v1Dir('cpuset') : cg.v2Has('cpuset') ? cg.v2Dir() : undefined;
  if (cpusetDir) {
    if (res.cpusetCpus) writeFile(cg, cpusetDir, 'cpuset.cpus', res.cpusetCpus);
    if (res.cpusetMems) writeFile(cg, cpusetDir, 'cpuset.mems', res.cpusetMems);
  }
  // pids
  const pidsDir = L.v1.pids ? cg.v1Dir('pids') : cg.v2Has('pids') ? cg.v2Dir() : undefined;
  if (pidsDir && res.pidsLimit !== undefined) {
    writeFile(cg, pidsDir, 'pids.max', res.pidsLimit > 0 ? res.pidsLimit : 'max');
  }
  // devices: the v1 controller's allow list, or on v2 an eBPF program with the same rules
  if ((opts.devices ?? 'default') === 'default') {
    const rules = [...DEFAULT_DEVICE_RULES, ...(opts.extraDeviceRules ?? [])];
    if (L.v1.devices) {
      const d = cg.v1Dir('devices')!;
      writeFile(cg, d, 'devices.deny', 'a');
      for (const rule of rules) writeFile(cg, d, 'devices.allow', rule);
    } else if (cg.v2Dir() && !opts.skipDeviceFilter) {
      const dir = cg.v2Dir()!;
      try {
        attachDeviceFilter(dir, rules.map(parseDeviceRule));
      } catch (e) {
        throw cgErr(
          `cgroup ${cg.relPath}: cannot install the device access filter: ${(e as Error).message}`,
          e,
          'cgroup v2 device control needs bpf() (CONFIG_CGROUP_BPF); run privileged to skip it',
        );
      }
    }
  }
}
