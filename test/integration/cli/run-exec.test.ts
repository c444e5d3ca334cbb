import { describe, expect, it } from 'vitest';
import { CliProject, waitFor } from '../../support/cli.js';

// each test's projects are brought down and checked for leftovers by test/integration/setup-file.ts
let p: CliProject | undefined;

describe('run and exec', () => {
  it('run without --rm leaves an exited one-off container that ps -a lists with its exit code', async () => {
    p = await CliProject.create(`
services:
  db:
    image: busybox:latest
    command: sleep 3600
  tool:
    image: busybox:latest
    command: sleep 3600
    working_dir: /tmp
    depends_on: [db]
`);
    const r = await p.run([
      'run',
      '--no-deps',
      '-e',
      'A=1',
      '-e',
      'B=two',
      '-u',
      '1000:1000',
      '-w',
      '/etc',
      'tool',
      'sh',
      '-c',
      'echo $A-$B $(id -u):$(id -g) $(pwd) $(hostname); exit 4',
    ]);
    expect(r.code).toBe(4);
    expect(r.stdout.trim()).toMatch(/^1-two 1000:1000 \/etc \S+$/);
    let ps = await p.ps();
    // --no-deps: db was not started
    expect(ps.map((c) => c.Service)).toEqual(['tool']);
    expect(ps[0]!.Name).toMatch(new RegExp(`^${p.name}-tool-run-[0-9a-f]{12}$`));
    expect(ps[0]!.State).toBe('exited');
    expect(ps[0]!.ExitCode).toBe(4);
    expect((await p.ok(['ps', '-a'])).stdout).toMatch(/Exited \(4\)/);

    // with dependencies: db is started first
    const e = await p.run(['run', '--rm', '--entrypoint', 'echo', 'tool', 'hello', 'entry']);
    expect(e.code).toBe(0);
    expect(e.stdout.trim()).toBe('hello entry');
    ps = await p.ps();
    expect(ps.find((c) => c.Service === 'db')?.State).toBe('running');
    expect(ps.filter((c) => c.Service === 'tool')).toHaveLength(1);
  });

  it('run -d --name runs in the background; run -p publishes on 127.0.0.1', async () => {
    p = await CliProject.create(
      `
services:
  web:
    image: busybox:latest
    command: sleep 3600
`,
      { 'site/index.html': 'one-off web\n' },
    );
    const d = await p.ok(['run', '-d', '--name', `${p.name}-bg`, 'web', 'sh', '-c', 'trap "exit 0" TERM; while true; do sleep 0.1; done']);
    expect(d.stdout.trim()).toBe(`${p.name}-bg`);
    const bg = (await p.ps()).find((c) => c.Name === `${p!.name}-bg`)!;
    expect(bg.State).toBe('running');

    const port = 20000 + Math.floor(Math.random() * 20000);
    const child = p.spawn(['run', '--rm', '-p', `127.0.0.1:${port}:80`, 'web', 'sh', '-c', 'echo one-off web > /tmp/i.html; httpd -f -p 80 -h /tmp']);
    try {
      const body = await waitFor(
        async () => {
          try {
            const res = await fetch(`http://127.0.0.1:${port}/i.html`);
            return res.ok ? await res.text() : undefined;
          } catch {
            return undefined;
          }
        },
        20_000,
        'the one-off published port',
      );
      expect(body).toBe('one-off web\n');
      const oneOff = (await p.ps()).find((c) => c.Name !== `${p!.name}-bg`)!;
      expect(oneOff.State).toBe('running');
    } finally {
      // httpd as PID 1 ignores SIGINT: the second one kills the container
      const exited = new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      child.kill('SIGINT');
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGINT');
      await exited;
    }
    expect(child.exitCode).toBe(137);
    await p.ok(['rm', '-s', '-f']);
    expect(await p.ps()).toEqual([]);
  });

  it('exec passes -u, -w, -e and the exit code through', async () => {
    p = await CliProject.create(`
services:
  app:
    image: busybox:latest
    command: sleep 3600
    environment:
      FROM_FILE: yes
`);
    await p.ok(['up', '-d']);
    const r = await p.run(['exec', '-u', '1234', '-w', '/var', '-e', 'X=42', 'app', 'sh', '-c', 'echo $(id -u) $(pwd) $X $FROM_FILE; exit 9']);
    expect(r.code).toBe(9);
    expect(r.stdout.trim()).toBe('1234 /var 42 yes');
    expect((await p.run(['exec', 'app', 'false'])).code).toBe(1);
    await p.ok(['down', '-t', '0']);
  });
});

describe('events', () => {
  it('events --json streams start and die of the project containers', async () => {
    p = await CliProject.create(`
services:
  ev:
    image: busybox:latest
    command: sleep 3600
  mark:
    image: busybox:latest
    command: sleep 3600
`);
    await p.ok(['up', '-d']);
    const child = p.spawn(['events', '--json']);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const seen = (service: string, action: string): boolean =>
      out.split('\n').some((l) => l.includes(`"service":"${service}"`) && l.includes(`"action":"${action}"`));
    try {
      // The stream prints nothing until an event comes, and a fixed wait for the command to
      // subscribe is not enough on a loaded machine: restart a marker service until one of its
      // starts shows up, so the stream is known to be live before ev restarts.
      await waitFor(
        async () => {
          await p!.ok(['restart', '-t', '0', 'mark']);
          return seen('mark', 'start');
        },
        60_000,
        'the events stream to show the marker',
      );
      await p.ok(['restart', '-t', '0', 'ev']);
      await waitFor(() => seen('ev', 'start'), 10_000, 'the start event');
    } finally {
      const exited = new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
      child.kill('SIGINT');
      await exited;
    }
    const events = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((e) => e.service === 'ev');
    const actions = events.map((e) => e.action);
    expect(actions).toContain('die');
    expect(actions.indexOf('die')).toBeLessThan(actions.lastIndexOf('start'));
    const start = events.find((e) => e.action === 'start')!;
    // as Compose: the container id, the name in the attributes
    const evId = (await p.ok(['ps', '-q', 'ev'])).stdout.trim();
    expect(start).toMatchObject({ type: 'container', id: evId, service: 'ev', attributes: expect.objectContaining({ name: `${p.name}-ev-1` }) });
    expect(String(start.time)).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(child.exitCode).toBe(0);
    await p.ok(['down', '-t', '0']);
  });
});
