import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ContainerCgroup,
  containerCgroup,
  removeCgroupTree,
  containerStats,
  isOomKilled,
  removeContainer,
  startContainer,
  stopContainer,
} from '../../../src/engine/index.js';
import { detectLayout } from '../../../src/engine/cgroups/index.js';
import { makeHarness, type Harness } from './harness.js';

let h: Harness;
beforeAll(() => {
  h = makeHarness('res');
});
afterAll(async () => {
  await h?.cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('cgroup limits on the real kernel', () => {
  it('detects the hierarchy of each controller', () => {
    const l = detectLayout();
    // Whatever the machine: memory, cpu and pids must be found in v1 or v2.
    for (const c of ['memory', 'cpu', 'pids']) {
      expect(Boolean(l.v1[c]) || l.v2Controllers.includes(c)).toBe(true);
    }
  });

  it('places the container in its cgroup before the command runs', async () => {
    const s = h.spec({ args: ['cat', '/proc/self/cgroup'] });
    const r = await h.run(s);
    // Inside its own cgroup namespace, the container sees itself at the root of every hierarchy.
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l.endsWith(':/')).toBe(true);
  });

  it('OOM-kills a process allocating past the memory limit and reports it', async () => {
    const s = h.spec({ args: ['tail', '/dev/zero'], resources: { memory: 32 << 20, memorySwap: 32 << 20 } });
    const r = await h.run(s, 60_000);
    expect(r.signal).toBe('SIGKILL');
    expect(isOomKilled(s)).toBe(true);
    const ok = h.spec({ args: ['true'], resources: { memory: 32 << 20 } });
    await h.run(ok);
    expect(isOomKilled(ok)).toBe(false);
  });

  it('stops a fork bomb at pids_limit', async () => {
    const s = h.spec({
      // The inner shell forks until the limit refuses it (and dies of that); the outer one
      // then uses only builtins and exec, which need no new pid.
      args: ['sh', '-c', "sh -c 'i=0; while [ $i -lt 60 ]; do sleep 30 & i=$((i+1)); done'; echo started; exec sleep 30"],
      resources: { pidsLimit: 16 },
    });
    const c = await h.start(s);
    const out = `${h.dir}/${s.id}.out`;
    const deadline = Date.now() + 10_000;
    while (!readFileSync(out, 'utf8').includes('started') && Date.now() < deadline) await sleep(20);
    expect(readFileSync(out, 'utf8')).toBe('started\n');
    const cg = containerCgroup(s);
    // outer shell + 14 sleeps (the inner shell that hit the limit has exited)
    expect(cg.pids().length).toBe(15);
    expect(cg.stats().pids).toBe(15);
    expect(readFileSync(`${h.dir}/${s.id}.err`, 'utf8')).toMatch(/can't fork|Resource temporarily unavailable/);
    await stopContainer(s, c.pid, 'SIGKILL', 0);
    expect(cg.isEmpty()).toBe(true);
  });

  it('enforces a CPU quota (measured)', async () => {
    const s = h.spec({ args: ['sh', '-c', 'while :; do :; done'], resources: { cpuQuota: 25_000, cpuPeriod: 100_000 } });
    const c = await h.start(s);
    const cg = containerCgroup(s);
    await sleep(200);
    const u0 = cg.stats().cpuUsageNs!;
    const t0 = process.hrtime.bigint();
    await sleep(1500);
    const u1 = cg.stats().cpuUsageNs!;
    const wall = Number(process.hrtime.bigint() - t0);
    const share = (u1 - u0) / wall;
    await stopContainer(s, c.pid, 'SIGKILL', 0);
    expect(share).toBeGreaterThan(0.05); // it ran (a loaded machine may give it less than its quota)
    expect(share).toBeLessThan(0.4);
  });

  it('writes memory, swap, shares, cpuset and pids limits into the cgroup files', async () => {
    const s = h.spec({
      args: ['sleep', '30'],
      resources: { memory: 48 << 20, memoryReservation: 16 << 20, cpuShares: 256, cpusetCpus: '0', pidsLimit: 33 },
    });
    const c = await h.start(s);
    const cg = containerCgroup(s);
    const l = cg.layout;
    const read = (ctrl: string, file: string) => readFileSync(`${l.v1[ctrl] ?? l.v2}/${s.cgroupPath}/${file}`, 'utf8').trim();
    if (l.v1.memory) {
      expect(read('memory', 'memory.limit_in_bytes')).toBe(String(48 << 20));
      expect(read('memory', 'memory.soft_limit_in_bytes')).toBe(String(16 << 20));
      expect(read('memory', 'memory.memsw.limit_in_bytes')).toBe(String(96 << 20));
      expect(read('cpu', 'cpu.shares')).toBe('256');
      expect(read('cpuset', 'cpuset.cpus')).toBe('0');
      expect(read('pids', 'pids.max')).toBe('33');
    } else {
      expect(read('memory', 'memory.max')).toBe(String(48 << 20));
      expect(read('pids', 'pids.max')).toBe('33');
    }
    expect(cg.stats().pids).toBe(1);
    await stopContainer(s, c.pid, 'SIGKILL', 0);
  });

  it('runs on the cgroup v2 backend (membership, cgroup.kill, removal) using the unified hierarchy', async () => {
    const unified = detectLayout().v2;
    expect(unified, 'a cgroup2 mount is needed for this test').toBeTruthy();
    // Only the unified tree, with no controllers: exercises the v2 code paths on this kernel.
    const layout = { v1: {}, v2: unified, v2Controllers: [] as string[] };
    // Device control on v2 is an eBPF program: /dev/null opens, a host device made by mknod does not.
    const probe = h.spec({
      args: ['sh', '-c', 'echo x > /dev/null && echo null-ok; mknod /tmp/fuse c 10 229 && { (: <>/tmp/fuse) 2>/dev/null && echo opened || echo refused; }'],
    });
    const out = `${h.dir}/${probe.id}.v2.out`;
    const fd = openSync(out, 'w');
    const p = await startContainer(probe, { stdout: fd, stderr: fd }, { cgroupLayout: layout });
    closeSync(fd);
    if (p.child.exitCode === null) await new Promise((r) => p.child.once('exit', r));
    expect(readFileSync(out, 'utf8')).toBe('null-ok\nrefused\n');
    await removeContainer(probe, { cgroupLayout: layout });

    const s = h.spec({ args: ['sh', '-c', 'sleep 100 & exec sleep 100'] });
    const c = await startContainer(s, { stdout: 1, stderr: 2 }, { cgroupLayout: layout });
    const exited = new Promise((r) => c.child.once('exit', (_code, sig) => r(sig)));
    const cg = new ContainerCgroup(s.cgroupPath, layout);
    expect(cg.dirs()).toEqual([`${unified}/${s.cgroupPath}`]);
    const deadline = Date.now() + 15_000;
    while (cg.pids().length < 2 && Date.now() < deadline) await sleep(20);
    expect(cg.pids()).toContain(c.pid);
    expect(cg.pids()).toHaveLength(2);
    await removeContainer(s, { cgroupLayout: layout });
    expect(await exited).toBe('SIGKILL');
    expect(existsSync(`${unified}/${s.cgroupPath}`)).toBe(false);
    expect(existsSync(`${unified}/tscompose`)).toBe(false);
  });

  it('restarts a stopped container with its files and an existing cgroup', async () => {
    const s = h.spec({ args: ['sh', '-c', 'cat /state 2>/dev/null; echo 4242 > /state; echo run'], resources: { pidsLimit: 50 } });
    const first = await h.run(s);
    expect(first.stdout).toBe('run\n');
    const second = await h.run(s);
    expect(second.stdout).toBe('4242\nrun\n');
  });

  it('reports a limit the kernel refuses as ENGINE_CGROUP and leaves no cgroup', async () => {
    const s = h.spec({ resources: { cpusetCpus: '63' } });
    const err = await h.start(s).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'ENGINE_CGROUP', message: expect.stringContaining(`container ${s.id}: cgroup`) });
    expect((err as Error).message).toContain('cpuset.cpus');
    expect(containerCgroup(s).exists()).toBe(false);
  });

  it('removes a whole project tree of cgroups with their processes', async () => {
    const a = h.spec({ args: ['sleep', '100'] });
    const b = h.spec({ args: ['sleep', '100'] });
    const project = a.cgroupPath.split('/').slice(0, 2).join('/');
    const ca = await h.start(a);
    const cb = await h.start(b);
    expect(containerStats(a).pids).toBe(1);
    const removed = await removeCgroupTree(project);
    expect(removed).toEqual(expect.arrayContaining([a.cgroupPath, b.cgroupPath, project]));
    expect((await ca.wait()).signal).toBe('SIGKILL');
    expect((await cb.wait()).signal).toBe('SIGKILL');
    expect(containerCgroup(a).exists()).toBe(false);
    expect(new ContainerCgroup(project).exists()).toBe(false);
  });

  it('shows the container its own cgroup read-only under /sys/fs/cgroup', async () => {
    const s = h.spec({
      args: [
        'sh',
        '-c',
        'cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/cgroup.procs; echo 1 > /sys/fs/cgroup/pids/pids.max || echo ro',
      ],
      resources: { pidsLimit: 21, memory: 40 << 20 },
    });
    const r = await h.run(s);
    if (!containerCgroup(s).layout.v1.pids) return; // the layout checked here is the v1 one of this machine
    // cgroup.procs lists container pids (1 = sh, then cat), not host ones
    expect(r.stdout).toMatch(new RegExp(`^21\\n${40 << 20}\\n1\\n\\d{1,2}\\nro\\n$`));
    expect(r.stderr).toContain('Read-only file system');
  });

  it('starts and removes containers of one project concurrently without tripping over shared ancestors', async () => {
    const wave1 = Array.from({ length: 4 }, () => h.spec({ args: ['sleep', '30'] }));
    const wave2 = Array.from({ length: 4 }, () => h.spec({ args: ['sleep', '30'] }));
    const started1 = await Promise.all(wave1.map((s) => h.start(s)));
    const [started2] = await Promise.all([Promise.all(wave2.map((s) => h.start(s))), Promise.all(wave1.map((s) => removeContainer(s)))]);
    for (const c of started1) expect((await c.wait()).signal).toBe('SIGKILL');
    for (const [i, s] of wave2.entries()) expect(containerCgroup(s).pids()).toEqual([started2[i].pid]);
    await Promise.all(wave2.map((s) => removeContainer(s)));
  });
});
