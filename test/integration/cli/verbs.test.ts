import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CliProject, waitFor } from '../../support/cli.js';

// each test's projects are brought down and checked for leftovers by test/integration/setup-file.ts
let p: CliProject | undefined;

const noStack = (s: string): void => expect(s).not.toMatch(/\n\s+at /);

const TWO = `
services:
  db:
    image: busybox:latest
    command: sleep 3600
  app:
    image: busybox:latest
    command: sleep 3600
    depends_on: [db]
`;

describe('stop, start, restart, kill, rm and ps', () => {
  it('stop shows Exited in ps -a; start and restart bring services back; ps filters', async () => {
    p = await CliProject.create(TWO);
    await p.ok(['up', '-d']);
    const ids = (await p.ok(['ps', '-q'])).stdout.trim().split('\n');
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{64}$/);
    // ps -q prints the full ids, the JSON their short form (Compose truncates unless --no-trunc)
    expect((await p.ps()).map((c) => c.ID)).toEqual(ids.map((id) => id.slice(0, 12)));
    expect((await p.ok(['ps', '--services'])).stdout.trim().split('\n').sort()).toEqual(['app', 'db']);

    const stop = await p.ok(['stop', '-t', '0']);
    // dependents stop first
    expect(stop.stderr.indexOf(`${p.name}-app-1`)).toBeLessThan(stop.stderr.indexOf(`${p.name}-db-1`));
    expect((await p.ok(['ps'])).stdout.trim().split('\n')).toHaveLength(1); // header only
    const table = (await p.ok(['ps', '-a'])).stdout;
    expect(table).toMatch(new RegExp(`${p.name}-db-1 .*Exited \\(137\\)`));
    const ps = await p.ps();
    expect(ps.map((c) => [c.Service, c.State, c.ExitCode])).toEqual([
      ['app', 'exited', 137],
      ['db', 'exited', 137],
    ]);
    expect((await p.ok(['ps', '--status', 'exited', '-q'])).stdout.trim().split('\n')).toHaveLength(2);
    expect((await p.ok(['ps', '--status', 'running', '-q'])).stdout.trim()).toBe('');
    const bad = await p.run(['ps', '--status', 'bogus']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/invalid --status "bogus"/);

    const start = await p.ok(['start']);
    expect(start.stderr.indexOf(`${p.name}-db-1`)).toBeLessThan(start.stderr.indexOf(`${p.name}-app-1`));
    expect((await p.ps()).every((c) => c.State === 'running')).toBe(true);

    const before = (await p.ps()).find((c) => c.Service === 'db')!.Pid;
    await p.ok(['restart', '-t', '0', 'db']);
    const after = await p.ps();
    expect(after.find((c) => c.Service === 'db')!.Pid).not.toBe(before);
    expect(after.every((c) => c.State === 'running')).toBe(true);

    const top = (await p.ok(['top', 'db'])).stdout;
    expect(top).toMatch(new RegExp(`${p.name}-db-1\\n`));
    expect(top).toMatch(/UID\s+PID\s+PPID\s+CMD/);
    expect(top).toMatch(/sleep 3600/);

    const images = (await p.ok(['images'])).stdout;
    expect(images).toMatch(/busybox/);
  });

  it('kill -s sends the signal; rm refuses running containers, rm -s -f stops and removes', async () => {
    p = await CliProject.create(`
services:
  trap:
    image: busybox:latest
    command: sh -c 'trap "echo got-usr1; exit 42" USR1; echo trap-set; while true; do sleep 0.1; done'
  other:
    image: busybox:latest
    command: sh -c 'trap "exit 0" TERM; while true; do sleep 0.1; done'
`);
    await p.ok(['up', '-d']);
    // PID 1 of a pid namespace drops a signal it has no handler for: send USR1 only once the
    // shell has set its trap (a fixed 300 ms was not always enough on a loaded machine)
    await waitFor(async () => /trap-set/.test((await p!.ok(['logs', 'trap'])).stdout), 30_000, 'the USR1 trap');
    await p.ok(['kill', '-s', 'USR1', 'trap']);
    const trap = await waitFor(async () => (await p!.ps()).find((c) => c.Service === 'trap' && c.State === 'exited'), 10_000, 'trap to exit');
    expect(trap.ExitCode).toBe(42);
    await waitFor(async () => /got-usr1/.test((await p!.ok(['logs', 'trap'])).stdout), 5_000, 'the trap output');

    // rm without -s leaves running containers alone, removes stopped ones
    const rm = await p.ok(['rm', '-f']);
    expect(rm.stderr).toMatch(new RegExp(`${p.name}-trap-1.*Removed`));
    expect((await p.ps()).map((c) => c.Service)).toEqual(['other']);
    const rm2 = await p.run(['rm', '-f']);
    expect(rm2.code).toBe(0);
    expect((await p.ps()).map((c) => c.Service)).toEqual(['other']);

    await p.ok(['kill', 'other']);
    const other = await waitFor(async () => (await p!.ps()).find((c) => c.State === 'exited'), 10_000, 'other to die');
    expect(other.ExitCode).toBe(137);
    await p.ok(['start', 'other']);
    await p.ok(['rm', '-s', '-f', '-v']);
    expect(await p.ps()).toEqual([]);
  });

  it('pause freezes a service and unpause (or up) resumes it; ps shows it paused; down works while paused', async () => {
    p = await CliProject.create(`
services:
  tick:
    image: busybox:latest
    # written aside then renamed: a reader never sees the file between truncate and write
    command: ["sh", "-c", "i=0; while :; do i=$$((i+1)); echo $$i > /tmp/n.new; mv /tmp/n.new /tmp/n; sleep 0.05; done"]
  other:
    image: busybox:latest
    command: sleep 3600
`);
    await p.ok(['up', '-d']);
    const counter = async () => Number((await p!.ok(['exec', '-T', 'tick', 'cat', '/tmp/n'])).stdout.trim());
    await p.ok(['pause', 'tick']);
    let ps = await p.ps();
    expect(ps.find((c) => c.Service === 'tick')).toMatchObject({ State: 'paused', Status: expect.stringMatching(/^Up .*\(Paused\)$/) });
    expect(ps.find((c) => c.Service === 'other')).toMatchObject({ State: 'running' });
    expect((await p.run(['pause', 'tick'])).stderr).toContain('no container to pause');
    expect((await p.ok(['ps'])).stdout).toMatch(/\(Paused\)/); // paused counts as up, as in Compose
    const ex = await p.run(['exec', '-T', 'tick', 'true']);
    expect([ex.code, ex.stderr]).toEqual([1, expect.stringMatching(/is paused[^]*tscompose unpause tick/)]);
    await p.ok(['unpause', 'tick']);
    const a = await counter();
    await new Promise((r) => setTimeout(r, 400));
    expect(await counter()).toBeGreaterThan(a);
    // up resumes a paused container instead of leaving it frozen
    await p.ok(['pause']);
    expect((await p.ps()).map((c) => c.State)).toEqual(['paused', 'paused']);
    const up = await p.ok(['up', '-d']);
    expect(up.stdout + up.stderr).not.toMatch(/Recreat/);
    ps = await p.ps();
    expect(ps.map((c) => c.State)).toEqual(['running', 'running']);
    await p.ok(['pause', 'tick']);
    await p.ok(['down', '-t', '0']);
    expect(await p.ps()).toEqual([]);
  });

  it('ls lists the projects of the state root with their container states and files, without starting anything', async () => {
    p = await CliProject.create(TWO);
    expect((await p.ok(['ls'])).stdout).toBe('NAME   STATUS   CONFIG FILES\n');
    await p.ok(['up', '-d']);
    const file = path.join(p.dir, 'compose.yaml');
    expect(JSON.parse((await p.ok(['ls', '--format', 'json'])).stdout)).toEqual([{ Name: p.name, Status: 'running(2)', ConfigFiles: file }]);
    await p.ok(['stop', 'app']);
    expect((await p.ok(['ls'])).stdout).toMatch(new RegExp(`^${p.name}\\s+running\\(1\\)\\s+${file}$`, 'm'));
    expect((await p.ok(['ls', '-a'])).stdout).toContain('exited(1), running(1)');
    expect((await p.ok(['ls', '-q'])).stdout).toBe(`${p.name}\n`);
    await p.ok(['down', '-t', '0']);
    expect((await p.ok(['ls', '-a', '-q'])).stdout).toBe('');
  });

  it('-p NAME works from any directory, from the project record', async () => {
    p = await CliProject.create(TWO, { '.env': 'X=1\n' });
    await p.ok(['up', '-d']);
    const elsewhere = mkdtempSync(path.join(os.tmpdir(), 'tsc-elsewhere-'));
    const ps = (await p.ok(['-p', p.name, 'ps', '--format', 'json'], { cwd: elsewhere })).stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { Service: string });
    expect(ps.map((c) => c.Service).sort()).toEqual(['app', 'db']);
    // without -p there is nothing to go by: the usual error
    const r = await p.run(['ps'], { cwd: elsewhere });
    expect([r.code, r.stderr]).toEqual([1, expect.stringMatching(/no configuration file provided/)]);
    noStack(r.stderr);
    await p.ok(['-p', p.name, 'down', '-t', '0'], { cwd: elsewhere });
    expect(await p.ps()).toEqual([]);
    rmSync(elsewhere, { recursive: true });
  });

  it('rm keeps anonymous volumes, rm -v removes them; named volumes stay', async () => {
    p = await CliProject.create(`
services:
  a:
    image: busybox:latest
    command: sleep 3600
    volumes: ["/anon", "named:/named"]
volumes:
  named: {}
`);
    const vols = (): string[] => (existsSync(path.join(p!.root, 'volumes')) ? readdirSync(path.join(p!.root, 'volumes')).sort() : []);
    await p.ok(['up', '-d']);
    const withAnon = vols();
    expect(withAnon).toHaveLength(2);
    await p.ok(['stop', '-t', '0']);
    await p.ok(['rm', '-f']);
    expect(vols()).toEqual(withAnon);
    await p.ok(['up', '-d']);
    expect(vols()).toHaveLength(3);
    await p.ok(['stop', '-t', '0']);
    await p.ok(['rm', '-f', '-v']);
    expect(vols()).toHaveLength(2);
    expect(vols().some((v) => v.endsWith('named'))).toBe(true);
  });

  it('unknown services and exec on a stopped service are one clear error', async () => {
    p = await CliProject.create(TWO);
    for (const args of [
      ['stop', 'nope'],
      ['start', 'nope'],
      ['logs', 'nope'],
      ['exec', 'nope', 'true'],
      ['up', '-d', 'nope'],
      ['run', 'nope'],
    ]) {
      const r = await p.run(args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(/no such service: nope/);
      noStack(r.stderr);
    }
    const e = await p.run(['exec', 'db', 'true']);
    expect(e.code).not.toBe(0);
    expect(e.stderr).toMatch(/"db" is not running/);
    noStack(e.stderr);
    const st = await p.run(['start', 'db']);
    expect(st.code).not.toBe(0);
    expect(st.stderr).toMatch(/service "db" has no container to start/);
    await p.ok(['up', '-d', 'db']);
    await p.ok(['stop', '-t', '0']);
    const e2 = await p.run(['exec', 'db', 'true']);
    expect(e2.code).not.toBe(0);
    expect(e2.stderr).toMatch(/not running/);
    expect(e2.stderr.trim().split('\n').length).toBeLessThanOrEqual(3);
    noStack(e2.stderr);
  });

  it('up with a missing image and --pull never is one clear error', async () => {
    p = await CliProject.create(`
services:
  x:
    image: tsc-not-here:1
    command: sleep 1
`);
    const r = await p.run(['up', '-d', '--pull', 'never']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/tsc-not-here:1.*not in the local store/);
    noStack(r.stderr);
    expect(await p.ps()).toEqual([]);
  });
});
