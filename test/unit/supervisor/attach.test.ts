/**
 * Attached runs (run-attached) over the supervisor's real socket, with host processes standing
 * in for containers (HostRuntime): the relay of stdin/stdout/stderr, the exit after the last
 * byte, a terminal, autoRemove, a client that hangs up, and one that stops reading.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { SupervisorClient } from '../../../src/supervisor/client.js';
import { projectPaths } from '../../../src/supervisor/paths.js';
import { runSupervisor } from '../../../src/supervisor/server.js';
import type { RunConfig } from '../../../src/supervisor/types.js';
import { processAlive } from '../../../src/engine/procfs.js';
import { HostRuntime } from './host-runtime.js';
import { hostSpec, tempRoot, until } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
});

async function setup() {
  const { root, cleanup } = tempRoot();
  const runtime = new HostRuntime();
  const project = 'tscatt';
  const server = await runSupervisor({ root, project, runtime, log: () => {} });
  cleanups.push(async () => {
    await server.close();
    runtime.killAll();
    cleanup();
  });
  const client = new SupervisorClient(projectPaths(root, project).socket, project);
  const cfg = (args: string[], tty = false): RunConfig => {
    const spec = hostSpec(root, project, args);
    spec.process.tty = tty;
    return { spec, restart: { name: 'no' } };
  };
  return { client, cfg, runtime };
}

function collect() {
  const out = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  return {
    out,
    text: (s: 'stdout' | 'stderr') => Buffer.concat(out[s]).toString(),
    onOutput: (stream: 'stdout' | 'stderr', data: Buffer) => void out[stream].push(data),
  };
}

describe('attached runs (host processes)', () => {
  it('relays stdin to EOF, both output streams to the last byte, then the exit code', async () => {
    const { client, cfg } = await setup();
    const c = collect();
    // 3 MiB through the relay, then the last line right before the exit
    const run = client.runAttached(cfg(['/bin/sh', '-c', 'cat; echo err >&2; head -c 3145728 /dev/zero; printf LAST; exit 7']), {}, c);
    run.stdin(Buffer.from('from stdin\n'));
    run.closeStdin();
    const exit = await run.exit;
    expect(exit).toMatchObject({ exitCode: 7, removed: false, status: { state: 'exited', exitCode: 7 } });
    const out = Buffer.concat(c.out.stdout);
    expect(out.subarray(0, 11).toString()).toBe('from stdin\n');
    expect(out.length).toBe(11 + 3145728 + 4);
    expect(out.subarray(-4).toString()).toBe('LAST');
    expect(c.text('stderr')).toBe('err\n');
    // the exited container stays, recorded by the supervisor
    expect((await client.inspect(exit.status.id)).state).toBe('exited');
  });

  it('with autoRemove, the container is removed once it exited', async () => {
    const { client, cfg } = await setup();
    const config = cfg(['/bin/sh', '-c', 'exit 0']);
    const exit = await client.runAttached(config, { autoRemove: true }, collect()).exit;
    expect(exit).toMatchObject({ exitCode: 0, removed: true });
    expect(await client.list()).toEqual([]);
    expect(existsSync(`${config.spec.bundleDir}/status.json`)).toBe(false);
  });

  it('gives a terminal of the asked size when the process has a tty, resized on request', async () => {
    const { client, cfg } = await setup();
    const c = collect();
    const run = client.runAttached(
      cfg(['/bin/sh', '-c', 'stty size; [ -t 0 ] && [ -t 1 ] && echo terminal; read line; stty size; echo "got $line"'], true),
      { tty: { rows: 33, cols: 101 } },
      c,
    );
    await until(() => c.text('stdout').includes('terminal'), 'the first size');
    run.resize(40, 120);
    run.stdin(Buffer.from('typed\r'));
    expect((await run.exit).exitCode).toBe(0);
    expect(c.text('stdout').split('\r\n')).toEqual(['33 101', 'terminal', 'typed', '40 120', 'got typed', '']);
  });

  it('a terminal-less request for a tty process is refused', async () => {
    const { client, cfg } = await setup();
    await expect(client.runAttached(cfg(['/bin/true']), { tty: { rows: 1, cols: 1 } }, collect()).exit).rejects.toThrow(/has no tty/);
  });

  it('relays a signal; a client that hangs up gets its autoRemove container killed and removed', async () => {
    const { client, cfg } = await setup();
    const trap = client.runAttached(cfg(['/bin/sh', '-c', 'trap "exit 42" INT; while :; do sleep 0.05; done']), {}, collect());
    await until(async () => (await client.list())[0]?.pid, 'the trap to run');
    await new Promise((r) => setTimeout(r, 200));
    trap.signal('SIGINT');
    expect((await trap.exit).exitCode).toBe(42);

    const config = cfg(['/bin/sleep', '300']);
    const run = client.runAttached(config, { autoRemove: true }, collect());
    const pid = await until(async () => (await client.list()).find((s) => s.id === config.spec.id)?.pid, 'the sleeper to run');
    run.hangUp();
    await expect(run.exit).rejects.toThrow(/detached/);
    await until(async () => !(await client.list()).some((s) => s.id === config.spec.id), 'its removal');
    expect(processAlive(pid)).toBe(false);
    expect(existsSync(`${config.spec.bundleDir}/status.json`)).toBe(false);
  });

  it('a client that stops reading holds back only its own container, and loses nothing', async () => {
    const { client, cfg } = await setup();
    let held = false;
    let got = 0;
    const run = client.runAttached(
      cfg(['/bin/sh', '-c', 'head -c 8388608 /dev/zero; echo done >&2']),
      {},
      {
        onOutput: (stream, data) => {
          if (stream === 'stdout') got += data.length;
          if (!held) return;
          return false;
        },
      },
    );
    held = true;
    // meanwhile another container runs and answers as usual
    await new Promise((r) => setTimeout(r, 500));
    const other = cfg(['/bin/sh', '-c', 'exit 5']);
    await client.run(other);
    expect((await client.waitFor(other.spec.id, 'exited', 5_000)).exitCode).toBe(5);
    const before = got;
    expect(before).toBeLessThan(8388608);
    // the writer is blocked, not finished
    expect((await client.list()).find((s) => s.id !== other.spec.id)?.state).toBe('running');
    held = false;
    run.resume();
    const exit = await run.exit;
    expect(exit.exitCode).toBe(0);
    expect(got).toBe(8388608);
  });
});
