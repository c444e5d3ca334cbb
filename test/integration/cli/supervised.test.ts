import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CliProject, waitFor } from '../../support/cli.js';

// each test's projects are brought down and checked for leftovers by test/integration/setup-file.ts
let p: CliProject | undefined;

/** A process that runs (a zombie waiting for the host's init to reap it counts as gone). */
const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

describe('logs, restart policies, OOM and the supervisor', () => {
  it('logs --tail, --since, -t, --no-log-prefix, and -f ends when the container exits', async () => {
    p = await CliProject.create(`
services:
  talk:
    image: busybox:latest
    command: sh -c 'for i in 1 2 3 4 5; do echo line-$$i; done; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo late; sleep 1'
`);
    // "late" comes only once the test says so (a file in the container): the checks before it
    // see exactly the first five lines however slow the machine is
    await p.ok(['up', '-d']);
    await waitFor(async () => /line-5/.test((await p!.ok(['logs'])).stdout), 30_000, 'the first lines');
    const tail = (await p.ok(['logs', '--tail', '2', '--no-log-prefix'])).stdout.trim().split('\n');
    expect(tail).toEqual(['line-4', 'line-5']);
    const prefixed = (await p.ok(['logs', '--tail', '1', 'talk'])).stdout;
    // as Compose: the container name without the project, padded to the longest plus one, then "| "
    expect(prefixed).toBe('talk-1  | line-5\n');
    const ts = (await p.ok(['logs', '--tail', '1', '-t', '--no-log-prefix'])).stdout.trim();
    expect(ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z line-5$/);
    const future = new Date(Date.now() + 3_600_000).toISOString();
    expect((await p.ok(['logs', '--since', future])).stdout.trim()).toBe('');
    expect((await p.ok(['logs', '--since', '1h', '--no-log-prefix'])).stdout).toMatch(/line-1/);
    // -f follows while the container runs, prints what comes later, and ends when it exits
    const f = p.spawn(['logs', '-f', '--no-log-prefix']);
    let out = '';
    f.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const ended = new Promise<number | null>((r) => (f.exitCode !== null ? r(f.exitCode) : f.once('exit', (code) => r(code))));
    try {
      await waitFor(() => /line-5/.test(out), 30_000, 'logs -f to print the backlog');
      expect(f.exitCode).toBe(null); // still following: the container has not exited
      await p.ok(['exec', '-T', 'talk', 'touch', '/tmp/go']);
      const t0 = Date.now();
      expect(await ended).toBe(0);
      expect(out).toMatch(/line-5\nlate\n/);
      expect(Date.now() - t0).toBeLessThan(15_000);
    } finally {
      if (f.exitCode === null) f.kill('SIGKILL');
    }
    expect((await p.ps())[0]!.State).toBe('exited');
  });

  it('restart: on-failure:2 restarts exactly twice; always survives; stop does not restart', async () => {
    p = await CliProject.create(`
services:
  flaky:
    image: busybox:latest
    command: sh -c 'echo try; sleep 0.2; exit 3'
    restart: on-failure:2
  steady:
    image: busybox:latest
    command: sh -c 'sleep 0.5; exit 0'
    restart: always
`);
    await p.ok(['up', '-d']);
    const flaky = await waitFor(async () => (await p!.ps()).find((c) => c.Service === 'flaky' && c.State === 'exited'), 30_000, 'flaky to give up');
    expect(flaky.RestartCount).toBe(2);
    expect(flaky.ExitCode).toBe(3);
    expect((await p.ok(['logs', 'flaky', '--no-log-prefix'])).stdout.match(/try/g)).toHaveLength(3);
    const steady = await waitFor(
      async () => {
        const s = (await p!.ps()).find((c) => c.Service === 'steady');
        return s && (s.RestartCount as number) >= 2 && s;
      },
      30_000,
      'steady to be restarted',
    );
    expect(['running', 'restarting']).toContain(steady.State);
    await p.ok(['stop', '-t', '0', 'steady']);
    const count = (await p.ps()).find((c) => c.Service === 'steady')!.RestartCount;
    await new Promise((r) => setTimeout(r, 2_500));
    const after = (await p.ps()).find((c) => c.Service === 'steady')!;
    expect(after.State).toBe('exited');
    expect(after.RestartCount).toBe(count);
  });

  it('a container past mem_limit is reported with exit code 137 and OOMKilled', async () => {
    p = await CliProject.create(`
services:
  hog:
    image: busybox:latest
    command: sh -c 'head -c 64m /dev/zero | tail'
    mem_limit: 16m
`);
    await p.ok(['up', '-d']);
    const hog = await waitFor(async () => (await p!.ps()).find((c) => c.State === 'exited'), 30_000, 'the hog to be killed');
    expect(hog.ExitCode).toBe(137);
    expect(hog.OOMKilled).toBe(true);
    expect((await p.ok(['ps', '-a'])).stdout).toMatch(/Exited \(137\).*OOMKilled/);
  });

  it('containers survive a killed supervisor; ps and up re-adopt them; down leaves nothing', async () => {
    p = await CliProject.create(`
services:
  a:
    image: busybox:latest
    command: sleep 3600
  b:
    image: busybox:latest
    command: sleep 3600
`);
    await p.ok(['up', '-d']);
    const before = await p.ps();
    const supPid = Number(readFileSync(path.join(p.root, 'projects', p.name, 'supervisor.pid'), 'utf8').trim());
    process.kill(supPid, 'SIGKILL');
    await waitFor(() => !alive(supPid), 5_000, 'the supervisor to die');
    for (const c of before) expect(alive(c.Pid as number)).toBe(true);
    const ps = await p.ps();
    expect(ps.map((c) => [c.Name, c.State, c.Pid])).toEqual(before.map((c) => [c.Name, 'running', c.Pid]));
    // ps started a new supervisor that adopted them
    const newSup = Number(readFileSync(path.join(p.root, 'projects', p.name, 'supervisor.pid'), 'utf8').trim());
    expect(newSup).not.toBe(supPid);
    expect(alive(newSup)).toBe(true);
    const up = await p.ok(['up', '-d']);
    expect(up.stderr).not.toMatch(/Recreat|Creat/);
    const again = await p.ps();
    expect(again.map((c) => c.Pid)).toEqual(before.map((c) => c.Pid));
    await p.ok(['stop', '-t', '0', 'a']);
    expect((await p.ps()).find((c) => c.Service === 'a')!.State).toBe('exited');
    await p.ok(['down', '-t', '0']);
    for (const c of before) expect(alive(c.Pid as number)).toBe(false);
  });
});
