/**
 * The supervisor's logic over real processes, FIFOs and its unix socket, with host processes
 * standing in for containers (HostRuntime): no root needed. The same behaviours are checked
 * with the real engine in test/integration/supervisor.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { SupervisorClient } from '../../../src/supervisor/client.js';
import { projectPaths } from '../../../src/supervisor/paths.js';
import { runSupervisor, type SupervisorServer } from '../../../src/supervisor/server.js';
import type { LogEntry, RunConfig, SupervisorEvent } from '../../../src/supervisor/types.js';
import net from 'node:net';
import path from 'node:path';
import type { ContainerRuntime } from '../../../src/supervisor/runtime.js';
import type { SupervisorHook } from '../../../src/supervisor/hooks.js';
import { readRecordedLogs, readRecordedStatuses } from '../../../src/supervisor/records.js';
import { HostRuntime } from './host-runtime.js';
import { hostSpec, tempRoot, until } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
});

async function setup(project = 'tscp', hooks: SupervisorHook[] = [], runtime = new HostRuntime()) {
  const { root, cleanup } = tempRoot();
  const lines: string[] = [];
  const servers: SupervisorServer[] = [];
  const start = async (): Promise<SupervisorServer> => {
    const s = await runSupervisor({ root, project, runtime, hooks, log: (l) => lines.push(l) });
    servers.push(s);
    return s;
  };
  cleanups.push(async () => {
    for (const s of servers) await s.close();
    runtime.killAll();
    cleanup();
  });
  const server = await start();
  const client = new SupervisorClient(projectPaths(root, project).socket, project);
  const cfg = (args: string[], extra: Partial<RunConfig> = {}): RunConfig => ({
    spec: hostSpec(root, project, args),
    restart: { name: 'no' },
    ...extra,
  });
  return { root, runtime, server, client, cfg, start, lines };
}

describe('supervisor (host processes)', () => {
  it('runs a container, records its exit code and stores both streams as timestamped JSON lines', async () => {
    const { client, cfg } = await setup();
    const c = cfg(['/bin/sh', '-c', 'echo out1; echo err1 >&2; printf partial; exit 3']);
    const r = await client.run(c);
    expect(r.pid).toBeGreaterThan(0);
    expect(r.status.state).toBe('running');
    const st = await client.waitFor(c.spec.id, 'exited', 5_000);
    expect(st).toMatchObject({ state: 'exited', exitCode: 3, oomKilled: false, restartCount: 0, pid: null });
    const logs: LogEntry[] = [];
    await client.logs(c.spec.id, {}, (e) => logs.push(e));
    expect(logs.filter((e) => e.stream === 'stdout').map((e) => e.log)).toEqual(['out1\n', 'partial']);
    expect(logs.filter((e) => e.stream === 'stderr').map((e) => e.log)).toEqual(['err1\n']);
    for (const e of logs) expect(e.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    const status = JSON.parse(readFileSync(`${c.spec.bundleDir}/status.json`, 'utf8'));
    expect(status.exitCode).toBe(3);
    const tail: LogEntry[] = [];
    await client.logs(c.spec.id, { tail: 1 }, (e) => tail.push(e));
    expect(tail.length).toBe(1);
  });

  it('restarts on-failure:2 exactly twice, with backoff', async () => {
    const { client, cfg } = await setup();
    const c = cfg(['/bin/sh', '-c', 'echo run; exit 1'], { restart: { name: 'on-failure', maxRetries: 2 } });
    const t0 = Date.now();
    await client.run(c);
    const st = await until(async () => {
      const s = await client.inspect(c.spec.id);
      return s.state === 'exited' && s.restartCount === 2 ? s : null;
    }, 'two restarts');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300); // 100 ms + 200 ms backoff
    await new Promise((r) => setTimeout(r, 1000)); // and no third run
    const after = await client.inspect(c.spec.id);
    expect(after).toMatchObject({ state: 'exited', restartCount: 2, exitCode: 1 });
    expect(st.exitCode).toBe(1);
    const logs: LogEntry[] = [];
    await client.logs(c.spec.id, {}, (e) => logs.push(e));
    expect(logs.map((e) => e.log)).toEqual(['run\n', 'run\n', 'run\n']);
  });

  it('backs off exponentially between restarts of a crashing container', async () => {
    const { client, cfg } = await setup();
    const c = cfg(['/bin/sh', '-c', 'exit 1'], { restart: { name: 'always' } });
    await client.run(c);
    await new Promise((r) => setTimeout(r, 1_600));
    const st = await client.inspect(c.spec.id);
    // 100 + 200 + 400 + 800 ms: at most 4 restarts fit in 1.6 s (without backoff: dozens)
    expect(st.restartCount).toBeGreaterThanOrEqual(2);
    expect(st.restartCount).toBeLessThanOrEqual(4);
    await client.stop(c.spec.id);
    expect((await client.inspect(c.spec.id)).state).toBe('exited');
  });

  it('does not restart after a user stop, even with restart: always', async () => {
    const { client, cfg } = await setup();
    const c = cfg(['/bin/sleep', '30'], { restart: { name: 'always' } });
    await client.run(c);
    const st = await client.stop(c.spec.id, { timeoutMs: 2_000 });
    expect(st).toMatchObject({ state: 'exited', exitCode: 143, stoppedByUser: true });
    await new Promise((r) => setTimeout(r, 400));
    expect((await client.inspect(c.spec.id)).state).toBe('exited');
    // start runs it again from its recorded request, and the policy applies again
    const again = await client.start(c.spec.id);
    expect(again.status).toMatchObject({ state: 'running', stoppedByUser: false, restartCount: 0 });
    await client.kill(c.spec.id, 'SIGKILL');
    await client.waitFor(c.spec.id, 'exited', 5_000);
    expect((await client.inspect(c.spec.id)).exitCode).toBe(137);
  });

  it('stop escalates to SIGKILL after the grace period when SIGTERM is ignored', async () => {
    const { client, cfg } = await setup();
    const c = cfg(['/bin/sh', '-c', 'trap "" TERM; echo ready; while :; do sleep 0.05; done']);
    await client.run(c);
    await until(async () => {
      const l: LogEntry[] = [];
      await client.logs(c.spec.id, {}, (e) => l.push(e));
      return l.length > 0;
    }, 'ready');
    const t0 = Date.now();
    const st = await client.stop(c.spec.id, { timeoutMs: 500 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
    expect(st.exitCode).toBe(137);
  });

  it('healthchecks make a container healthy, or unhealthy with the probe output recorded', async () => {
    const { client, cfg } = await setup();
    const ok = cfg(['/bin/sleep', '30'], {
      healthcheck: { test: ['CMD-SHELL', 'echo fine'], interval: 100, timeout: 1000, retries: 2, startPeriod: 0 },
    });
    const bad = cfg(['/bin/sleep', '30'], {
      healthcheck: { test: ['CMD', '/bin/sh', '-c', 'echo broken; exit 1'], interval: 100, timeout: 1000, retries: 2, startPeriod: 0 },
    });
    const r1 = await client.run(ok);
    expect(r1.status.health?.status).toBe('starting');
    await client.run(bad);
    const h = await client.waitFor(ok.spec.id, 'healthy', 5_000);
    expect(h.health?.log.at(-1)).toMatchObject({ exitCode: 0, output: 'fine\n' });
    await expect(client.waitFor(bad.spec.id, 'healthy', 5_000)).rejects.toMatchObject({
      code: 'UP_CONDITION',
      message: expect.stringMatching(/unhealthy/),
      hint: expect.stringMatching(/broken/),
    });
    const b = await client.inspect(bad.spec.id);
    expect(b.health).toMatchObject({ status: 'unhealthy', failingStreak: 2 });
    await expect(client.waitFor(ok.spec.id, 'exited', 200)).rejects.toMatchObject({ code: 'UP_CONDITION' });
    // a new run's health starts again at "starting"
    await client.stop(ok.spec.id, { timeoutMs: 1000 });
    const again = await client.run(ok);
    expect(again.status.health).toMatchObject({ status: 'starting', failingStreak: 0, log: [] });
  });

  it('a healthcheck that exceeds its timeout counts as a failure', async () => {
    const { client, cfg } = await setup();
    const c = cfg(['/bin/sleep', '30'], {
      healthcheck: { test: ['CMD', '/bin/sleep', '5'], interval: 50, timeout: 100, retries: 1, startPeriod: 0 },
    });
    await client.run(c);
    const st = await until(async () => {
      const s = await client.inspect(c.spec.id);
      return s.health?.status === 'unhealthy' ? s : null;
    }, 'unhealthy');
    expect(st.health!.log[0]).toMatchObject({ exitCode: -1, output: expect.stringMatching(/exceeded timeout/) });
  });

  it('follows logs until the container exits for good', async () => {
    const { client, cfg } = await setup();
    const c = cfg(['/bin/sh', '-c', 'for i in 1 2 3; do echo $i; sleep 0.1; done']);
    await client.run(c);
    const got: string[] = [];
    const n = await client.logs(c.spec.id, { follow: true, untilExit: true }, (e) => got.push(e.log));
    expect(got).toEqual(['1\n', '2\n', '3\n']);
    expect(n).toBe(3);
  });

  it('errors cross the socket as TscError with codes', async () => {
    const { client, cfg } = await setup();
    await expect(client.inspect('nope')).rejects.toMatchObject({ name: 'TscError', code: 'NO_SUCH_SERVICE' });
    const c = cfg(['/bin/sleep', '30']);
    await client.run(c);
    await expect(client.run(c)).rejects.toMatchObject({ code: 'SUPERVISOR', message: expect.stringMatching(/already running/) });
    await expect(client.remove(c.spec.id)).rejects.toMatchObject({ code: 'SUPERVISOR' });
    await expect(client.shutdown()).rejects.toMatchObject({ code: 'SUPERVISOR', message: expect.stringMatching(/running containers/) });
    await expect(client.kill(c.spec.id, 'SIGNOPE')).rejects.toMatchObject({ code: 'USAGE' });
    await client.remove(c.spec.id, true);
    expect(existsSync(`${c.spec.bundleDir}/status.json`)).toBe(false);
    expect(await client.list()).toEqual([]);
  });

  it('remove-many stops and removes containers in one request, each with its own outcome', async () => {
    for (const batched of [false, true]) {
      const runtime = new HostRuntime();
      const batches: number[] = [];
      if (batched) {
        // the engine's stopMany, minus cgroups: one call for every container
        (runtime as ContainerRuntime).stopMany = async (items) => {
          batches.push(items.length);
          await Promise.all(items.map((i) => runtime.stop(i.spec, i.pid, i.signal, i.graceMs)));
        };
      }
      const { client, cfg, root } = await setup(batched ? 'tscrmb' : 'tscrms', [], runtime);
      const ignoresTerm = cfg(['/bin/sh', '-c', 'trap "" TERM; while :; do sleep 0.05; done'], { restart: { name: 'always' }, stopGraceMs: 300 });
      const sleeper = cfg(['/bin/sleep', '30'], { restart: { name: 'always' } });
      const exited = cfg(['/bin/true']);
      for (const c of [ignoresTerm, sleeper, exited]) await client.run(c);
      await client.waitFor(exited.spec.id, 'exited', 5_000);
      const events: SupervisorEvent[] = [];
      const ac = new AbortController();
      const stream = client.events((e) => events.push(e), ac.signal);
      await new Promise((r) => setTimeout(r, 50));
      const t0 = Date.now();
      const out = await client.removeMany([sleeper.spec.id, 'nope', ignoresTerm.spec.id, exited.spec.id]);
      // each container's own stop signal and grace: SIGTERM ends the sleeper, SIGKILL the other after 300 ms
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
      expect(out.map((o) => [o.id, o.error?.code])).toEqual([
        [sleeper.spec.id, undefined],
        ['nope', 'NO_SUCH_SERVICE'],
        [ignoresTerm.spec.id, undefined],
        [exited.spec.id, undefined],
      ]);
      expect(batches).toEqual(batched ? [2] : []);
      expect(await client.list()).toEqual([]);
      const index = JSON.parse(readFileSync(path.join(projectPaths(root, batched ? 'tscrmb' : 'tscrms').dir, 'supervised.json'), 'utf8'));
      expect(index.containers).toEqual({});
      for (const c of [ignoresTerm, sleeper, exited]) expect(existsSync(`${c.spec.bundleDir}/status.json`)).toBe(false);
      await until(() => events.filter((e) => e.action === 'remove').length === 3, 'remove events');
      await new Promise((r) => setTimeout(r, 300)); // restart: always does not bring any back
      ac.abort();
      await stream;
      expect(events.filter((e) => e.action === 'restarting')).toEqual([]);
      expect(events.filter((e) => e.action === 'die').map((e) => [e.status.id, e.status.exitCode])).toEqual(
        expect.arrayContaining([
          [sleeper.spec.id, 143],
          [ignoresTerm.spec.id, 137],
        ]),
      );
    }
  });

  it('serves on a socket path longer than a unix address holds, at the right place', async () => {
    const { root, cleanup } = tempRoot();
    const deep = `${root}/${'d'.repeat(60)}/${'e'.repeat(60)}`;
    const project = 'tscp-long';
    const server = await runSupervisor({ root: deep, project, runtime: new HostRuntime() });
    cleanups.push(async () => {
      await server.close();
      cleanup();
    });
    const sockPath = projectPaths(deep, project).socket;
    expect(sockPath.length).toBeGreaterThan(108);
    expect(existsSync(sockPath)).toBe(true);
    const client = new SupervisorClient(sockPath, project);
    expect((await client.ping()).pid).toBe(process.pid);
    await expect(new SupervisorClient(`${root}/missing/${'f'.repeat(120)}/supervisor.sock`, 'x').ping()).rejects.toMatchObject({
      code: 'SUPERVISOR',
      message: expect.stringMatching(/not running/),
    });
  });

  it('a second supervisor for the same project is refused while the first holds the lock', async () => {
    const { start } = await setup();
    await expect(start()).rejects.toMatchObject({ code: 'SUPERVISOR', message: expect.stringMatching(/another supervisor/) });
  });

  it('a new supervisor re-adopts running containers: logs continue, exit is seen, stop works', async () => {
    const { client, cfg, server, start } = await setup();
    const c = cfg(['/bin/sh', '-c', 'i=0; while :; do i=$((i+1)); echo tick $i; sleep 0.05; done'], { restart: { name: 'always' } });
    const r = await client.run(c);
    await new Promise((res) => setTimeout(res, 200));
    await server.close(); // like a crash: nothing is stopped
    await new Promise((res) => setTimeout(res, 200)); // output written meanwhile waits in the FIFO
    await start();
    const st = await client.inspect(c.spec.id);
    expect(st).toMatchObject({ state: 'running', pid: r.pid, startTime: r.startTime });
    const count = async () => {
      const l: LogEntry[] = [];
      await client.logs(c.spec.id, {}, (e) => l.push(e));
      return l;
    };
    const before = (await count()).length;
    await until(async () => (await count()).length > before + 3, 'logs to continue');
    const logs = await count();
    const nums = logs.map((e) => Number(e.log.split(' ')[1]));
    expect(nums).toEqual(nums.map((_, i) => i + 1)); // nothing lost, nothing twice
    const stopped = await client.stop(c.spec.id, { timeoutMs: 1000 });
    // Not its parent, the new supervisor learns the exit code (SIGTERM: 143) from the kernel's
    // process events, which need root; without them the code is unknown and said so.
    if (process.getuid?.() === 0) {
      expect(stopped).toMatchObject({ state: 'exited', exitCode: 143, stoppedByUser: true });
    } else {
      expect(stopped).toMatchObject({ state: 'exited', exitCode: null, stoppedByUser: true });
      expect(stopped.exitReason).toMatch(/cannot learn its exit code/);
    }
  });

  it('a container can write up to 1 MiB per stream while no supervisor reads, and nothing is lost', async () => {
    const { client, cfg, server, start, root } = await setup();
    const marker = `${root}/written`;
    // 5000 lines of 100 bytes = 500 kB, far past a default 64 KiB pipe
    const c = cfg(['/bin/sh', '-c', `sleep 0.3; i=0; while [ $i -lt 5000 ]; do printf '%099d\\n' $i; i=$((i+1)); done; touch ${marker}; exec sleep 30`]);
    await client.run(c);
    await server.close();
    await until(() => existsSync(marker), 'the writer to finish without a reader', 15_000);
    await start();
    await until(async () => (await client.logs(c.spec.id, {}, () => {})) === 5000, 'all lines logged', 10_000);
    const logs: LogEntry[] = [];
    await client.logs(c.spec.id, { tail: 1 }, (e) => logs.push(e));
    expect(Number(logs[0].log)).toBe(4999);
  });

  it('marks a container that died while no supervisor ran, and applies restart: always', async () => {
    const { client, cfg, server, start, runtime } = await setup();
    const c = cfg(['/bin/sleep', '30'], { restart: { name: 'always' } });
    const r = await client.run(c);
    await server.close();
    process.kill(r.pid!, 'SIGKILL');
    await until(() => !existsSync(`/proc/${r.pid}`) || readFileSync(`/proc/${r.pid}/stat`, 'utf8').includes(') Z'), 'death');
    await new Promise((res) => setTimeout(res, 50));
    await start();
    const st = await until(async () => {
      const s = await client.inspect(c.spec.id);
      return s.state === 'running' && s.pid !== r.pid ? s : null;
    }, 'restart');
    expect(st.restartCount).toBe(1);
    expect(runtime.started.length).toBe(2);
  });

  it('a new supervisor settles an interrupted start (exited) and an interrupted restart (decided again)', async () => {
    const { client, cfg, server, start } = await setup();
    const a = cfg(['/bin/true']);
    const b = cfg(['/bin/sleep', '30'], { restart: { name: 'always' } });
    const c = cfg(['/bin/true'], { restart: { name: 'on-failure' } });
    for (const x of [a, b, c]) await client.run(x);
    await client.waitFor(a.spec.id, 'exited', 5_000);
    await client.waitFor(c.spec.id, 'exited', 5_000);
    await server.close();
    const rewrite = (x: RunConfig, patch: Record<string, unknown>): void => {
      const file = path.join(x.spec.bundleDir, 'status.json');
      writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), ...patch }));
    };
    // as a supervisor killed in the middle of a start, and of two restarts, leaves them
    rewrite(a, { state: 'created', exitCode: null });
    const bPid = (JSON.parse(readFileSync(path.join(b.spec.bundleDir, 'status.json'), 'utf8')) as { pid: number }).pid;
    process.kill(bPid, 'SIGKILL');
    rewrite(b, { state: 'restarting', pid: null, startTime: null, exitCode: 137 });
    rewrite(c, { state: 'restarting', exitCode: 0 });
    await start();
    expect(await client.inspect(a.spec.id)).toMatchObject({ state: 'exited', exitCode: null, exitReason: expect.stringMatching(/start was interrupted/) });
    // restart: always runs it again; on-failure after an exit 0 does not
    await until(async () => (await client.inspect(b.spec.id)).state === 'running', 'restart of b');
    expect(await client.inspect(c.spec.id)).toMatchObject({ state: 'exited', exitCode: 0 });
  });

  it("a stop during a restart's start waits for it and stops what it started", async () => {
    class SlowStart extends HostRuntime {
      delayMs = 0;
      asked = 0;
      override async start(spec: Parameters<HostRuntime['start']>[0], io: Parameters<HostRuntime['start']>[1]) {
        this.asked++;
        await new Promise((r) => setTimeout(r, this.delayMs));
        return super.start(spec, io);
      }
    }
    const runtime = new SlowStart();
    const { client, cfg } = await setup('tscp', [], runtime);
    const c = cfg(['/bin/sh', '-c', 'sleep 0.2; exit 1'], { restart: { name: 'always' } });
    await client.run(c);
    runtime.delayMs = 400;
    await until(() => runtime.asked >= 2, "the restart's start");
    expect((await client.inspect(c.spec.id)).state).toBe('restarting');
    const st = await client.stop(c.spec.id, { timeoutMs: 1_000 });
    expect(st).toMatchObject({ state: 'exited', stoppedByUser: true });
    expect(runtime.started.length).toBe(2); // the restart did start it, and the stop stopped that run
    await new Promise((r) => setTimeout(r, 300));
    expect(await client.inspect(c.spec.id)).toMatchObject({ state: 'exited', pid: null });
    expect(runtime.asked).toBe(2);
  });

  it('streams events: start, health_status, die, restarting, remove', async () => {
    const { client, cfg } = await setup();
    const ac = new AbortController();
    const events: SupervisorEvent[] = [];
    const stream = client.events((e) => events.push(e), ac.signal);
    await new Promise((r) => setTimeout(r, 50));
    const c = cfg(['/bin/sh', '-c', 'sleep 0.4; exit 1'], {
      restart: { name: 'on-failure', maxRetries: 1 },
      healthcheck: { test: ['CMD', 'true'], interval: 50, timeout: 1000, retries: 1, startPeriod: 0 },
    });
    await client.run(c);
    await until(async () => (await client.inspect(c.spec.id)).restartCount === 1 && (await client.inspect(c.spec.id)).state === 'exited', 'end');
    await client.remove(c.spec.id);
    await until(() => events.some((e) => e.action === 'remove'), 'remove event');
    ac.abort();
    await stream;
    const actions = events.map((e) => e.action);
    expect(actions[0]).toBe('start');
    expect(actions).toContain('health_status');
    expect(actions.filter((a) => a === 'die').length).toBe(2);
    expect(actions.filter((a) => a === 'restarting').length).toBe(1);
    expect(actions.at(-1)).toBe('remove');
    expect(events.find((e) => e.action === 'die')!.status.exitCode).toBe(1);
  });

  it('refuses a second run of a container that is still starting', async () => {
    const { client, cfg } = await setup();
    const c = cfg(['/bin/sleep', '30']);
    const results = await Promise.allSettled([client.run(c), client.run(c)]);
    expect(results.filter((r) => r.status === 'fulfilled').length).toBe(1);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: { code: 'SUPERVISOR' } });
  });

  it('answers a malformed request line with an error instead of dying', async () => {
    const { client, root } = await setup();
    const sock = net.connect(projectPaths(root, 'tscp').socket);
    const reply = await new Promise<string>((resolve) => {
      let buf = '';
      sock.on('data', (d) => {
        buf += d.toString();
        if (buf.includes('\n')) resolve(buf);
      });
      sock.write('this is not json\n');
    });
    const reply2 = await new Promise<string>((resolve) => {
      const s2 = net.connect(projectPaths(root, 'tscp').socket);
      let buf = '';
      s2.on('data', (d) => {
        buf += d.toString();
        if (buf.includes('\n')) {
          s2.destroy();
          resolve(buf);
        }
      });
      s2.write(JSON.stringify({ type: 'stop', id: 9 }) + '\n');
    });
    expect(JSON.parse(reply2)).toMatchObject({
      type: 'error',
      id: 9,
      error: { code: 'SUPERVISOR', message: 'invalid supervisor request: "stop": container: expected a non-empty string, got nothing' },
    });
    // a run whose config is the wrong shape is refused before anything is started
    const reply3 = await new Promise<string>((resolve) => {
      const s3 = net.connect(projectPaths(root, 'tscp').socket);
      let buf = '';
      s3.on('data', (d) => {
        buf += d.toString();
        if (buf.includes('\n')) {
          s3.destroy();
          resolve(buf);
        }
      });
      s3.write(
        JSON.stringify({ type: 'run', id: 10, config: { spec: { id: 'x', bundleDir: '/nonexistent', process: { args: 'sh' } }, restart: { name: 'no' } } }) +
          '\n',
      );
    });
    expect(JSON.parse(reply3)).toMatchObject({
      type: 'error',
      id: 10,
      error: { code: 'SUPERVISOR', message: expect.stringMatching(/^invalid supervisor request: "run": config\.spec\./) },
    });
    expect(await client.list()).toEqual([]);
    sock.destroy();
    expect(JSON.parse(reply)).toMatchObject({ type: 'error', error: { code: 'SUPERVISOR' } });
    expect((await client.ping()).pid).toBe(process.pid);
  });

  it("rotates a container log by the run request's max-size and max-file", async () => {
    const { client, cfg } = await setup();
    const c = cfg(['/bin/sh', '-c', 'for i in $(seq 1 50); do echo line $i; done'], { log: { maxSize: 500, maxFile: 2 } });
    await client.run(c);
    await client.waitFor(c.spec.id, 'exited', 5_000);
    expect(existsSync(`${c.spec.bundleDir}/container-json.log.1`)).toBe(true);
    expect(existsSync(`${c.spec.bundleDir}/container-json.log.2`)).toBe(false);
    const logs: LogEntry[] = [];
    await client.logs(c.spec.id, {}, (e) => logs.push(e));
    expect(logs.at(-1)!.log).toBe('line 50\n');
    expect(logs.length).toBeLessThan(50);
    const nums = logs.map((e) => Number(e.log.split(' ')[1]));
    expect(nums).toEqual(nums.map((_, i) => nums[0] + i));
    // removal takes every rotated file, also those of an earlier, larger max-file
    writeFileSync(`${c.spec.bundleDir}/container-json.log.17`, '');
    writeFileSync(`${c.spec.bundleDir}/container-json.log.keep`, '');
    await client.remove(c.spec.id);
    expect(readdirSync(c.spec.bundleDir).sort()).toEqual(['container-json.log.keep']);
  });

  it("calls network hooks on start, exit and remove with the run request's opaque data; a failing hook stops nothing", async () => {
    const seen: string[] = [];
    const hook: SupervisorHook = {
      name: 'test',
      onContainerStart: (c) => {
        seen.push(`start ${c.id} ${JSON.stringify(c.config.network)} ${c.pid! > 0}`);
      },
      onContainerExit: (c) => {
        seen.push(`exit ${c.id} ${c.status.exitCode}`);
        throw new Error('hook broke');
      },
      onContainerRemove: (c) => {
        seen.push(`remove ${c.id}`);
      },
    };
    const { client, cfg, lines } = await setup('tscp', [hook]);
    const c = cfg(['/bin/sh', '-c', 'exit 4'], { network: { ip: '10.0.0.2', aliases: ['web'] } });
    await client.run(c);
    await client.waitFor(c.spec.id, 'exited', 5_000);
    await client.remove(c.spec.id);
    const id = c.spec.id;
    expect(seen).toEqual([`start ${id} {"ip":"10.0.0.2","aliases":["web"]} true`, `exit ${id} 4`, `remove ${id}`]);
    expect(lines.some((l) => l.includes('hook broke'))).toBe(true);
  });

  it('keeps stdin open for stdin_open/tty: a shell reading it waits instead of exiting', async () => {
    const { client, cfg } = await setup();
    const c = cfg(['/bin/sh', '-c', 'read line; echo got "$line"']);
    c.spec.process.openStdin = true;
    const plain = cfg(['/bin/sh', '-c', 'read line; echo eof $?']);
    await client.run(c);
    await client.run(plain);
    expect((await client.waitFor(plain.spec.id, 'exited', 5_000)).exitCode).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    expect((await client.inspect(c.spec.id)).state).toBe('running');
    await client.stop(c.spec.id, { timeoutMs: 500 });
  });

  it('status and logs can be read from disk without a supervisor', async () => {
    const { client, cfg, server, root } = await setup();
    const done = cfg(['/bin/sh', '-c', 'echo hello; exit 5']);
    const live = cfg(['/bin/sleep', '30']);
    await client.run(done);
    await client.waitFor(done.spec.id, 'exited', 5_000);
    const r = await client.run(live);
    await server.close();
    let sts = readRecordedStatuses(root, 'tscp');
    expect(sts.map((s) => [s.id, s.state, s.exitCode])).toEqual([
      [done.spec.id, 'exited', 5],
      [live.spec.id, 'running', null],
    ]);
    process.kill(r.pid!, 'SIGKILL');
    await until(() => readRecordedStatuses(root, 'tscp')[1].state === 'exited', 'exit seen from disk');
    sts = readRecordedStatuses(root, 'tscp');
    expect(sts[1]).toMatchObject({ exitCode: null, exitReason: expect.stringMatching(/unknown/) });
    expect(readRecordedLogs(root, 'tscp', done.spec.id).map((e) => e.log)).toEqual(['hello\n']);
    expect(() => readRecordedLogs(root, 'tscp', 'nope')).toThrow(expect.objectContaining({ code: 'NO_SUCH_SERVICE' }));
  });

  it('logging driver none drains the output without storing it', async () => {
    const { client, cfg } = await setup();
    const c = cfg(['/bin/sh', '-c', 'echo hidden; exit 0'], { log: { driver: 'none' } });
    await client.run(c);
    await client.waitFor(c.spec.id, 'exited', 5_000);
    expect(await client.logs(c.spec.id, {}, () => {})).toBe(0);
  });

  it('pause freezes output and healthchecks; unpause resumes; stop works on a paused container', async () => {
    const { client, cfg } = await setup();
    const c = cfg(['/bin/sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i; sleep 0.05; done'], {
      healthcheck: { test: ['CMD', 'true'], interval: 50, timeout: 1000, retries: 1, startPeriod: 0 },
    });
    await client.run(c);
    await client.waitFor(c.spec.id, 'healthy', 5_000);
    const st = await client.pause(c.spec.id);
    expect(st.state).toBe('paused');
    await expect(client.pause(c.spec.id)).rejects.toMatchObject({ code: 'ENGINE_NOT_RUNNING' });
    await new Promise((r) => setTimeout(r, 150));
    const n = await client.logs(c.spec.id, {}, () => {});
    const probes = (await client.inspect(c.spec.id)).health!.log.at(-1)!.end;
    await new Promise((r) => setTimeout(r, 400));
    expect(await client.logs(c.spec.id, {}, () => {})).toBe(n);
    expect((await client.inspect(c.spec.id)).health!.log.at(-1)!.end).toBe(probes);
    expect((await client.unpause(c.spec.id)).state).toBe('running');
    await until(async () => (await client.logs(c.spec.id, {}, () => {})) > n, 'output again');
    await client.pause(c.spec.id);
    const stopped = await client.stop(c.spec.id, { timeoutMs: 2_000 });
    expect(stopped).toMatchObject({ state: 'exited', stoppedByUser: true });
  });
});
