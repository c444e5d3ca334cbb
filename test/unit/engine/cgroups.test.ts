import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ContainerCgroup, killCgroups, parseLayout, type CgroupLayout } from '../../../src/engine/cgroups/index.js';

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'tsc-cg-unit-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

const HYBRID_MOUNTINFO = `25 30 0:22 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw
27 25 0:24 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct
28 25 0:25 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory
29 25 0:26 / /sys/fs/cgroup/pids rw,nosuid - cgroup cgroup rw,pids
30 25 0:27 / /sys/fs/cgroup/systemd rw,nosuid - cgroup cgroup rw,name=systemd
31 25 0:28 / /sys/fs/cgroup/cpuset rw,nosuid - cgroup cgroup rw,cpuset
`;
const V2_MOUNTINFO = `35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;

describe('parseLayout', () => {
  it('assigns each controller to the hierarchy that holds it on a hybrid machine', () => {
    const l = parseLayout(HYBRID_MOUNTINFO, () => ['hugetlb', 'memory']);
    expect(l.v1).toEqual({
      cpu: '/sys/fs/cgroup/cpu,cpuacct',
      cpuacct: '/sys/fs/cgroup/cpu,cpuacct',
      memory: '/sys/fs/cgroup/memory',
      pids: '/sys/fs/cgroup/pids',
      cpuset: '/sys/fs/cgroup/cpuset',
    });
    expect(l.v2).toBe('/sys/fs/cgroup/unified');
    // memory is claimed by v1, so cgroup2 only offers hugetlb here
    expect(l.v2Controllers).toEqual(['hugetlb']);
  });
  it('reads a pure v2 machine', () => {
    const l = parseLayout(V2_MOUNTINFO, () => ['cpuset', 'cpu', 'io', 'memory', 'pids']);
    expect(l.v1).toEqual({});
    expect(l.v2).toBe('/sys/fs/cgroup');
    expect(l.v2Controllers).toContain('memory');
  });
});

function v1Layout(): CgroupLayout {
  const v1: Record<string, string> = {};
  for (const c of ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'freezer', 'devices']) {
    v1[c] = path.join(tmp, c);
    mkdirSync(v1[c]);
  }
  writeFileSync(path.join(v1.cpuset, 'cpuset.cpus'), '0-1\n');
  writeFileSync(path.join(v1.cpuset, 'cpuset.mems'), '0\n');
  return { v1, v2: path.join(tmp, 'unified'), v2Controllers: ['hugetlb'] };
}

function v2Layout(): CgroupLayout {
  const root = path.join(tmp, 'v2');
  mkdirSync(root);
  writeFileSync(path.join(root, 'cgroup.subtree_control'), 'memory\n');
  return { v1: {}, v2: root, v2Controllers: ['cpuset', 'cpu', 'io', 'memory', 'pids'] };
}

const read = (...p: string[]) => readFileSync(path.join(...p), 'utf8');

describe('ContainerCgroup v1', () => {
  it('creates the path in each hierarchy, copies the parent cpuset and writes limits', () => {
    const l = v1Layout();
    // swap accounting on: the memsw file exists in the new cgroup
    const cg = new ContainerCgroup('tscompose/proj/c1', l);
    mkdirSync(path.join(l.v1.memory!, 'tscompose/proj/c1'), { recursive: true });
    writeFileSync(path.join(l.v1.memory!, 'tscompose/proj/c1/memory.memsw.limit_in_bytes'), '');
    cg.create({ memory: 64 << 20, memoryReservation: 32 << 20, cpuQuota: 150000, cpuPeriod: 100000, cpuShares: 512, pidsLimit: 100 });
    const d = (c: string) => path.join(l.v1[c]!, 'tscompose/proj/c1');
    expect(read(d('memory'), 'memory.limit_in_bytes')).toBe(String(64 << 20));
    expect(read(d('memory'), 'memory.memsw.limit_in_bytes')).toBe(String(128 << 20));
    expect(read(d('memory'), 'memory.soft_limit_in_bytes')).toBe(String(32 << 20));
    expect(read(d('cpu'), 'cpu.cfs_period_us')).toBe('100000');
    expect(read(d('cpu'), 'cpu.cfs_quota_us')).toBe('150000');
    expect(read(d('cpu'), 'cpu.shares')).toBe('512');
    expect(read(d('pids'), 'pids.max')).toBe('100');
    // every level of a new cpuset cgroup gets the parent's cpus/mems
    expect(read(l.v1.cpuset!, 'tscompose', 'cpuset.cpus')).toBe('0-1');
    expect(read(l.v1.cpuset!, 'tscompose/proj', 'cpuset.mems')).toBe('0');
    expect(read(d('cpuset'), 'cpuset.cpus')).toBe('0-1');
    expect(read(d('devices'), 'devices.deny')).toBe('a');
    // the unified hierarchy holds no controller the engine uses: untouched
    expect(existsSync(path.join(tmp, 'unified'))).toBe(false);
  });

  it('skips memsw without swap accounting and honours unlimited swap and pids', () => {
    const l = v1Layout();
    const cg = new ContainerCgroup('tscompose/p/c2', l);
    cg.create({ memory: 10 << 20, pidsLimit: -1 });
    const d = path.join(l.v1.memory!, 'tscompose/p/c2');
    expect(existsSync(path.join(d, 'memory.memsw.limit_in_bytes'))).toBe(false);
    expect(read(l.v1.pids!, 'tscompose/p/c2/pids.max')).toBe('max');
    writeFileSync(path.join(d, 'memory.memsw.limit_in_bytes'), '');
    cg.apply({ memory: 10 << 20, memorySwap: -1 });
    expect(read(d, 'memory.memsw.limit_in_bytes')).toBe('-1');
  });

  it('adds a pid to every hierarchy and lists members', () => {
    const l = v1Layout();
    const cg = new ContainerCgroup('tscompose/p/c3', l);
    cg.create({}, { devices: 'all' });
    cg.addPid(4242);
    for (const d of cg.dirs()) expect(read(d, 'cgroup.procs')).toBe('4242');
    expect(cg.pids()).toEqual([4242]);
    expect(cg.dirs()).toHaveLength(7);
    expect(existsSync(path.join(l.v1.devices!, 'tscompose/p/c3/devices.deny'))).toBe(false);
  });

  it('reads the OOM kill count from memory.oom_control', () => {
    const l = v1Layout();
    const cg = new ContainerCgroup('tscompose/p/c4', l);
    cg.create({});
    const f = path.join(l.v1.memory!, 'tscompose/p/c4/memory.oom_control');
    writeFileSync(f, 'oom_kill_disable 0\nunder_oom 0\noom_kill 0\n');
    expect(cg.oomKilled()).toBe(false);
    writeFileSync(f, 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n');
    expect(cg.oomKilled()).toBe(true);
  });

  it('removes the leaf and the empty ancestors inside its path, and nothing above', () => {
    const l = v1Layout();
    const a = new ContainerCgroup('tscompose/p/a', l);
    const b = new ContainerCgroup('tscompose/p/b', l);
    // keep directories empty so rmdir works as on cgroupfs
    for (const cg of [a, b]) for (const d of cg.dirs()) mkdirSync(d, { recursive: true });
    a.destroy();
    expect(existsSync(path.join(l.v1.memory!, 'tscompose/p/a'))).toBe(false);
    expect(existsSync(path.join(l.v1.memory!, 'tscompose/p'))).toBe(true);
    b.destroy();
    expect(existsSync(path.join(l.v1.memory!, 'tscompose'))).toBe(false);
    expect(existsSync(l.v1.memory!)).toBe(true);
  });

  it('kills the members of many cgroups in one batch, thaws them all, and leaves empty ones alone', async () => {
    const l = v1Layout();
    const [a, b, idle] = ['a', 'b', 'idle'].map((n) => new ContainerCgroup(`tscompose/p/${n}`, l)) as [ContainerCgroup, ContainerCgroup, ContainerCgroup];
    for (const cg of [a, b, idle]) cg.create({}, { devices: 'all' });
    const freezer = (cg: ContainerCgroup) => path.join(l.v1.freezer!, cg.relPath, 'freezer.state');
    for (const cg of [a, b]) writeFileSync(freezer(cg), 'THAWED');
    writeFileSync(freezer(idle), 'untouched');
    const kids = [spawn('sleep', ['30']), spawn('sleep', ['30'])];
    await Promise.all(kids.map((k) => once(k, 'spawn')));
    const exits = kids.map((k, i) => {
      const cg = [a, b][i]!;
      cg.addPid(k.pid!);
      // as on cgroupfs: a member leaves cgroup.procs when it exits
      return once(k, 'exit').then(() => {
        for (const d of cg.dirs()) writeFileSync(path.join(d, 'cgroup.procs'), '');
      });
    });
    await killCgroups([a, b, idle], 5_000);
    await Promise.all(exits);
    expect(kids.map((k) => k.signalCode)).toEqual(['SIGKILL', 'SIGKILL']);
    expect([a, b].map((cg) => read(freezer(cg)))).toEqual(['THAWED', 'THAWED']);
    expect(read(freezer(idle))).toBe('untouched');
    await idle.killAll(1_000); // empty: nothing to freeze
    expect(read(freezer(idle))).toBe('untouched');
  });

  it('refuses paths that could leave the hierarchy', () => {
    const l = v1Layout();
    expect(() => new ContainerCgroup('../etc', l)).toThrow(/invalid cgroup path/);
    expect(() => new ContainerCgroup('a/../../b', l)).toThrow(/invalid cgroup path/);
  });
});

describe('ContainerCgroup v2', () => {
  it('enables controllers level by level and writes v2 limit files', () => {
    const l = v2Layout();
    const cg = new ContainerCgroup('tscompose/proj/c1', l);
    mkdirSync(path.join(l.v2!, 'tscompose/proj/c1'), { recursive: true });
    writeFileSync(path.join(l.v2!, 'tscompose/proj/c1/memory.swap.max'), 'max\n');
    cg.create(
      { memory: 64 << 20, memoryReservation: 1 << 20, cpuQuota: 50000, cpuPeriod: 100000, cpuShares: 1024, cpusetCpus: '1', pidsLimit: 7 },
      { skipDeviceFilter: true },
    );
    const d = path.join(l.v2!, 'tscompose/proj/c1');
    // root already had memory enabled: only the missing ones are added
    expect(read(l.v2!, 'cgroup.subtree_control')).toBe('+cpu +cpuset +pids');
    expect(read(l.v2!, 'tscompose/cgroup.subtree_control')).toBe('+cpu +cpuset +memory +pids');
    expect(read(d, 'memory.max')).toBe(String(64 << 20));
    expect(read(d, 'memory.swap.max')).toBe(String(64 << 20));
    expect(read(d, 'memory.low')).toBe(String(1 << 20));
    expect(read(d, 'cpu.max')).toBe('50000 100000');
    expect(read(d, 'cpu.weight')).toBe('39');
    expect(read(d, 'cpuset.cpus')).toBe('1');
    expect(read(d, 'pids.max')).toBe('7');
    expect(cg.dirs()).toEqual([d]);
  });

  it('reads oom_kill from memory.events and usage from cpu.stat', () => {
    const l = v2Layout();
    const cg = new ContainerCgroup('tscompose/p/c', l);
    cg.create({}, { skipDeviceFilter: true });
    const d = path.join(l.v2!, 'tscompose/p/c');
    writeFileSync(path.join(d, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n');
    writeFileSync(path.join(d, 'cpu.stat'), 'usage_usec 1500\nuser_usec 1000\n');
    writeFileSync(path.join(d, 'memory.current'), '4096\n');
    expect(cg.oomKilled()).toBe(true);
    expect(cg.stats()).toMatchObject({ cpuUsageNs: 1_500_000, memoryBytes: 4096 });
  });

  it('maps cpu shares to cpu.weight like runc', () => {
    const l = v2Layout();
    const cg = new ContainerCgroup('tscompose/p/w', l);
    const weight = (cpuShares: number): string => {
      cg.apply({ cpuShares }, { skipDeviceFilter: true });
      return read(l.v2!, 'tscompose/p/w', 'cpu.weight');
    };
    cg.create({}, { skipDeviceFilter: true });
    expect([weight(1024), weight(2), weight(262144)]).toEqual(['39', '1', '10000']);
  });
});
