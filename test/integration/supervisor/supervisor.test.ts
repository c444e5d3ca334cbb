/**
 * The supervisor process with the real engine: containers in their own namespaces and
 * cgroups, a detached supervisor started through ensureSupervisor(), logs through FIFOs,
 * restart policies, stop escalation, and re-adoption after kill -9 of the supervisor.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeBusyboxRootfs } from '../../support/busybox.js';
import { DEFAULT_CAPABILITIES, containerCgroup, removeContainer, type ContainerSpec } from '../../../src/engine/index.js';
import * as engine from '../../../src/engine/index.js';
import { ensureSupervisor, type SupervisorClient } from '../../../src/supervisor/client.js';
import { projectPaths } from '../../../src/supervisor/paths.js';
import type { LogEntry, RunConfig } from '../../../src/supervisor/types.js';

const project = `tscsup${process.pid}`;
let dir: string;
let root: string;
let rootfs: string;
let client: SupervisorClient;
const specs: ContainerSpec[] = [];
let seq = 0;

function spec(args: string[]): ContainerSpec {
  const id = `tsc-sup-${process.pid}-${++seq}`;
  const s: ContainerSpec = {
    id,
    bundleDir: path.join(root, 'projects', project, 'containers', id),
    rootfs: { lowerDirs: [rootfs], readonly: false },
    hostname: 'tsc-box',
    process: {
      args,
      env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'],
      cwd: '/',
      tty: false,
      noNewPrivileges: false,
      capabilities: [...DEFAULT_CAPABILITIES],
      rlimits: [],
      init: false,
    },
    mounts: [],
    resources: {},
    cgroupPath: `tscompose/${project}/${id}`,
    netns: { kind: 'none' },
    etc: { hosts: '127.0.0.1 localhost\n', hostname: 'tsc-box\n', resolvConf: '' },
    sysctls: {},
    privileged: false,
  };
  specs.push(s);
  return s;
}

const cfg = (args: string[], extra: Partial<RunConfig> = {}): RunConfig => ({ spec: spec(args), restart: { name: 'no' }, ...extra });

async function allLogs(id: string): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  await client.logs(id, {}, (e) => out.push(e));
  return out;
}

async function until<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function supervisorPid(): number | null {
  try {
    return Number(readFileSync(projectPaths(root, project).pidFile, 'utf8').trim()) || null; // empty once shut down
  } catch {
    return null;
  }
}

/** A process's command line with spaces, or '' */
function cmdline(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  return engine.processAlive(pid);
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'tsc-sup-'));
  root = path.join(dir, 'state');
  rootfs = makeBusyboxRootfs(path.join(dir, 'rootfs'));
  client = await ensureSupervisor(root, project);
});

afterAll(async () => {
  const pid = supervisorPid();
  if (pid && alive(pid)) {
    try {
      await client.shutdown(true);
    } catch {
      /* fall through to the kill below */
    }
    await until(() => !alive(pid), 'supervisor exit', 5_000).catch(() => {});
  }
  // every process of this file left now is a leak (a supervisor's command line names the
  // state root): note it, kill it, then clean the kernel objects, and only then assert
  const leftovers = readdirSync('/proc').filter((p) => cmdline(p).includes(root));
  const described = leftovers.map((p) => `${p}: ${cmdline(p)}`);
  for (const p of leftovers) {
    try {
      process.kill(Number(p), 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (const s of specs) await removeContainer(s).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
  expect(described).toEqual([]);
  for (const s of specs) expect(containerCgroup(s).exists()).toBe(false);
  for (const h of ['memory', 'pids', 'cpu', 'unified']) {
    expect(existsSync(`/sys/fs/cgroup/${h}/tscompose/${project}`)).toBe(false);
  }
  expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(dir);
});

describe('supervisor with the real engine', () => {
  it('a second ensureSupervisor finds the running one', async () => {
    const a = await client.ping();
    const again = await ensureSupervisor(root, project);
    expect((await again.ping()).pid).toBe(a.pid);
    expect(a.pid).not.toBe(process.pid);
  });

  it('concurrent ensureSupervisor calls for a new project end with one supervisor', async () => {
    const other = `${project}b`;
    const clients = await Promise.all([1, 2, 3].map(() => ensureSupervisor(root, other)));
    const pids = await Promise.all(clients.map(async (c) => (await c.ping()).pid));
    expect(new Set(pids).size).toBe(1);
    await clients[0].shutdown();
    expect(alive(pids[0])).toBe(false); // shutdown returns once the process is gone
    // and none of the redundant ones stays behind
    await until(() => !readdirSync('/proc').some((p) => cmdline(p).includes(`--project ${other}`)), 'no other supervisor', 5_000);
  });

  it('runs a container in its own PID namespace, logs both streams with timestamps and records the exit code', async () => {
    const c = cfg(['/bin/sh', '-c', 'echo "pid $$"; echo oops >&2; exit 7']);
    await client.run(c);
    const st = await client.waitFor(c.spec.id, 'exited', 15_000);
    expect(st).toMatchObject({ state: 'exited', exitCode: 7, oomKilled: false });
    const logs = await allLogs(c.spec.id);
    expect(logs.filter((e) => e.stream === 'stdout').map((e) => e.log)).toEqual(['pid 1\n']);
    expect(logs.filter((e) => e.stream === 'stderr').map((e) => e.log)).toEqual(['oops\n']);
    for (const e of logs) expect(e.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    const file = readFileSync(path.join(c.spec.bundleDir, 'container-json.log'), 'utf8').trim().split('\n');
    expect(file.map((l) => JSON.parse(l).log).sort()).toEqual(['oops\n', 'pid 1\n']);
  });

  it('starts containers concurrently without mixing their output or exit codes', async () => {
    const cs = Array.from({ length: 8 }, (_, i) => cfg(['/bin/sh', '-c', `echo "I am ${i}"; sleep 0.3; echo "bye ${i}" >&2; exit ${10 + i}`]));
    await Promise.all(cs.map((c) => client.run(c)));
    const sts = await Promise.all(cs.map((c) => client.waitFor(c.spec.id, 'exited', 30_000)));
    expect(sts.map((s) => s.exitCode)).toEqual(cs.map((_, i) => 10 + i));
    for (const [i, c] of cs.entries()) {
      const logs = await allLogs(c.spec.id);
      expect(logs.map((e) => `${e.stream}:${e.log}`)).toEqual([`stdout:I am ${i}\n`, `stderr:bye ${i}\n`]);
    }
    await Promise.all(cs.map((c) => client.remove(c.spec.id)));
  });

  it('restart on-failure:2 restarts exactly twice', async () => {
    const c = cfg(['/bin/sh', '-c', 'echo attempt; exit 2'], { restart: { name: 'on-failure', maxRetries: 2 } });
    await client.run(c);
    await until(async () => {
      const s = await client.inspect(c.spec.id);
      return s.state === 'exited' && s.restartCount === 2;
    }, 'two restarts');
    await new Promise((r) => setTimeout(r, 1_000));
    expect(await client.inspect(c.spec.id)).toMatchObject({ state: 'exited', restartCount: 2, exitCode: 2 });
    expect((await allLogs(c.spec.id)).map((e) => e.log)).toEqual(['attempt\n', 'attempt\n', 'attempt\n']);
    await client.remove(c.spec.id);
    expect(containerCgroup(c.spec).exists()).toBe(false);
  });

  it('healthchecks run inside the container: healthy, and unhealthy with the output recorded', async () => {
    const ok = cfg(['/bin/sh', '-c', 'echo up > /tmp/ready; exec sleep 1000'], {
      healthcheck: { test: ['CMD-SHELL', 'cat /tmp/ready && hostname'], interval: 200, timeout: 5_000, retries: 2, startPeriod: 0 },
    });
    const bad = cfg(['/bin/sleep', '1000'], {
      healthcheck: {
        test: ['CMD', '/bin/sh', '-c', 'echo "no /tmp/ready here"; test -f /tmp/ready'],
        interval: 200,
        timeout: 5_000,
        retries: 2,
        startPeriod: 0,
      },
    });
    const r = await client.run(ok);
    expect(r.status.health?.status).toBe('starting');
    await client.run(bad);
    const st = await client.waitFor(ok.spec.id, 'healthy', 20_000);
    // the probe sees the container's own /tmp and hostname: it ran in its namespaces
    expect(st.health!.log.at(-1)).toMatchObject({ exitCode: 0, output: 'up\ntsc-box\n' });
    await expect(client.waitFor(bad.spec.id, 'healthy', 20_000)).rejects.toMatchObject({
      code: 'UP_CONDITION',
      hint: expect.stringMatching(/no \/tmp\/ready here/),
    });
    expect((await client.inspect(bad.spec.id)).health).toMatchObject({ status: 'unhealthy', failingStreak: 2 });
    await client.remove(ok.spec.id, true);
    await client.remove(bad.spec.id, true);
    expect(containerCgroup(ok.spec).exists()).toBe(false);
  });

  it('tty/stdin_open keep a shell waiting on stdin instead of exiting at once', async () => {
    const c = cfg(['/bin/sh']);
    c.spec.process.tty = true;
    await client.run(c);
    await new Promise((r) => setTimeout(r, 500));
    expect((await client.inspect(c.spec.id)).state).toBe('running');
    const st = await client.stop(c.spec.id, { timeoutMs: 300 });
    expect(st.exitCode).toBe(137);
    await client.remove(c.spec.id);
  });

  it('pause freezes every process through the cgroup; unpause thaws; a paused container can be stopped', async () => {
    const c = cfg(['/bin/sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i; sleep 0.05; done']);
    await client.run(c);
    await until(async () => (await allLogs(c.spec.id)).length > 2, 'output');
    expect((await client.pause(c.spec.id)).state).toBe('paused');
    expect(engine.isPaused(c.spec)).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    const n = (await allLogs(c.spec.id)).length;
    await new Promise((r) => setTimeout(r, 400));
    expect((await allLogs(c.spec.id)).length).toBe(n);
    await client.unpause(c.spec.id);
    expect(engine.isPaused(c.spec)).toBe(false);
    await until(async () => (await allLogs(c.spec.id)).length > n, 'output after unpause');
    await client.pause(c.spec.id);
    const st = await client.stop(c.spec.id, { timeoutMs: 500 });
    expect(st).toMatchObject({ state: 'exited', exitCode: 137 });
    expect(containerCgroup(c.spec).pids()).toEqual([]);
    await client.remove(c.spec.id);
  });

  it('records an OOM kill as exit 137 with oomKilled', async () => {
    const c = cfg(['tail', '/dev/zero']);
    c.spec.resources = { memory: 32 << 20, memorySwap: 32 << 20 };
    await client.run(c);
    const st = await client.waitFor(c.spec.id, 'exited', 60_000);
    expect(st).toMatchObject({ state: 'exited', exitCode: 137, oomKilled: true });
    await expect(client.waitFor(c.spec.id, 'running', 1_000)).rejects.toMatchObject({
      code: 'UP_CONDITION',
      message: expect.stringMatching(/OOM/),
    });
    await client.remove(c.spec.id);
  });

  it('stop sends SIGTERM, then SIGKILL after the grace period (sleep as PID 1 ignores SIGTERM)', async () => {
    const c = cfg(['/bin/sleep', '1000']);
    const r = await client.run(c);
    expect(alive(r.pid!)).toBe(true);
    const t0 = Date.now();
    const st = await client.stop(c.spec.id, { timeoutMs: 700 });
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(650);
    expect(st).toMatchObject({ state: 'exited', exitCode: 137, stoppedByUser: true });
    expect(containerCgroup(c.spec).pids()).toEqual([]);
    await client.remove(c.spec.id);
  });

  it('kill -9 of the supervisor leaves the container running; a new supervisor re-adopts it', async () => {
    const c = cfg(['/bin/sh', '-c', 'i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.1; done'], {
      restart: { name: 'always' },
      healthcheck: { test: ['CMD', 'true'], interval: 300, timeout: 5_000, retries: 1, startPeriod: 0 },
    });
    const r = await client.run(c);
    await client.waitFor(c.spec.id, 'healthy', 20_000);
    await until(async () => (await allLogs(c.spec.id)).length >= 2, 'first ticks');
    const oldPid = supervisorPid()!;
    process.kill(oldPid, 'SIGKILL');
    await until(() => !alive(oldPid), 'supervisor death');
    await new Promise((res) => setTimeout(res, 300));
    expect(engine.processAlive(r.pid!, r.startTime!)).toBe(true);

    client = await ensureSupervisor(root, project);
    expect((await client.ping()).pid).not.toBe(oldPid);
    const st = await client.inspect(c.spec.id);
    expect(st).toMatchObject({ state: 'running', pid: r.pid, startTime: r.startTime });
    const n = (await allLogs(c.spec.id)).length;
    await until(async () => (await allLogs(c.spec.id)).length > n + 3, 'logs to continue');
    // the new supervisor runs the healthcheck too
    const lastProbe = st.health!.log.at(-1)!.end;
    await until(async () => (await client.inspect(c.spec.id)).health!.log.at(-1)!.end !== lastProbe, 'a probe by the new supervisor');
    expect((await client.inspect(c.spec.id)).health!.status).toBe('healthy');
    const ticks = (await allLogs(c.spec.id)).map((e) => Number(e.log.split(' ')[1]));
    expect(ticks).toEqual(ticks.map((_, i) => i + 1)); // no tick lost or doubled across the switch

    // not its parent, the new supervisor learns the exit code from the kernel's process events
    const stopped = await client.stop(c.spec.id, { timeoutMs: 500 });
    expect(stopped).toMatchObject({ state: 'exited', exitCode: 137, stoppedByUser: true });
    expect(stopped.exitReason).toBeUndefined();
    expect(engine.processAlive(r.pid!)).toBe(false);
    expect(containerCgroup(c.spec).pids()).toEqual([]);
    await client.remove(c.spec.id);
  });

  it('a re-adopted container that exits by itself is recorded with its exit code, and on-failure restarts it', async () => {
    const c = cfg(['/bin/sh', '-c', 'trap "exit 5" USR1; echo ready; while :; do sleep 0.05; done'], {
      restart: { name: 'on-failure', maxRetries: 1 },
    });
    const r = await client.run(c);
    await until(async () => (await allLogs(c.spec.id)).some((e) => e.log.includes('ready')), 'the trap');
    const oldPid = supervisorPid()!;
    process.kill(oldPid, 'SIGKILL');
    await until(() => !alive(oldPid), 'supervisor death');
    client = await ensureSupervisor(root, project);
    expect(await client.inspect(c.spec.id)).toMatchObject({ state: 'running', pid: r.pid });
    process.kill(r.pid!, 'SIGUSR1');
    // exit code 5 is a failure: on-failure:1 starts it once more, as a new process
    const again = await until(async () => {
      const st = await client.inspect(c.spec.id);
      return st.state === 'running' && st.pid !== r.pid ? st : null;
    }, 'the restart');
    expect(again.restartCount).toBe(1);
    const events = await until(async () => {
      const l = await allLogs(c.spec.id);
      return l.filter((e) => e.log.includes('ready')).length >= 2 ? l : null;
    }, 'the second run');
    expect(events.length).toBeGreaterThanOrEqual(2);
    await client.remove(c.spec.id, true);
  });

  it('shutdown is refused while a container runs and accepted once none does', async () => {
    const c = cfg(['/bin/sleep', '1000']);
    await client.run(c);
    await expect(client.shutdown()).rejects.toMatchObject({ code: 'SUPERVISOR' });
    await client.remove(c.spec.id, true);
    const pid = supervisorPid()!;
    await client.shutdown();
    expect(alive(pid)).toBe(false);
    expect(existsSync(projectPaths(root, project).socket)).toBe(false);
    client = await ensureSupervisor(root, project);
  });
});
