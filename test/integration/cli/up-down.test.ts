import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CliProject, leftovers, waitFor } from '../../support/cli.js';

// each test's projects are brought down and checked for leftovers by test/integration/setup-file.ts
let p: CliProject | undefined;

const startTime = (pid: number): string => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[19]!;

describe('up and down', () => {
  it('converges: a second up changes nothing; one changed variable recreates only its service', async () => {
    const compose = (v: string) => `
services:
  a:
    image: busybox:latest
    command: sleep 3600
    environment:
      FOO: ${v}
  b:
    image: busybox:latest
    command: sleep 3600
    depends_on: [a]
`;
    p = await CliProject.create(compose('one'));
    await p.ok(['up', '-d']);
    const first = await p.ps();
    expect(first.map((c) => c.State)).toEqual(['running', 'running']);
    const pids = Object.fromEntries(first.map((c) => [c.Service as string, c.Pid as number]));
    const starts = Object.fromEntries(Object.entries(pids).map(([s, pid]) => [s, startTime(pid)]));

    const again = await p.ok(['up', '-d']);
    expect(again.stderr).not.toMatch(/Recreat|Creat/);
    const second = await p.ps();
    for (const c of second) {
      expect(c.Pid).toBe(pids[c.Service as string]);
      expect(startTime(c.Pid as number)).toBe(starts[c.Service as string]);
    }
    expect((await p.ok(['plan'])).stdout).toMatch(/nothing to do/);

    p.write('compose.yaml', compose('two'));
    const plan = (await p.ok(['up', '--dry-run'])).stdout;
    expect(plan).toMatch(/recreate\s+\S+-a-1 \(a\): .*environment\.FOO/);
    expect(plan).not.toMatch(/recreate\s+\S+-b-1/);
    await p.ok(['up', '-d', '-t', '0']);
    const third = await p.ps();
    const a = third.find((c) => c.Service === 'a')!;
    const b = third.find((c) => c.Service === 'b')!;
    expect(a.Pid).not.toBe(pids.a);
    expect(b.Pid).toBe(pids.b);
    expect((await p.ok(['exec', 'a', 'sh', '-c', 'echo $FOO'])).stdout.trim()).toBe('two');

    await p.ok(['down', '-t', '0']);
    expect(await p.ps()).toEqual([]);
  });

  it('serves a bind-mounted folder on a published port and resolves services by name', async () => {
    p = await CliProject.create(
      `
services:
  web:
    image: busybox:latest
    command: httpd -f -p 80 -h /www
    volumes: ["./site:/www:ro"]
    ports: ["127.0.0.1::80"]
    mem_limit: 64m
    pids_limit: 50
  client:
    image: busybox:latest
    command: sh -c 'while true; do timeout 5 wget -qO- http://web/ && sleep 1 || sleep 1; done'
    depends_on: [web]
`,
      { 'site/index.html': 'hello from tscompose\n' },
    );
    await p.ok(['up', '-d']);
    const port = (await p.ok(['port', 'web', '80'])).stdout.trim();
    expect(port).toMatch(/^127\.0\.0\.1:\d+$/);
    const body = await waitFor(
      async () => {
        try {
          const r = await fetch(`http://${port}/`);
          return r.ok ? await r.text() : undefined;
        } catch {
          return undefined;
        }
      },
      10_000,
      'the published port',
    );
    expect(await body).toBe('hello from tscompose\n');
    await waitFor(async () => /hello from tscompose/.test((await p!.ok(['logs', 'client'])).stdout), 20_000, 'the client to reach web by name');
    // read-only bind
    const w = await p.run(['exec', 'web', 'sh', '-c', 'echo x > /www/new']);
    expect(w.code).not.toBe(0);
    await p.ok(['down', '-t', '0']);
  });

  it('down returns only once the supervisor has exited: nothing of the project runs then', async () => {
    p = await CliProject.create('services:\n  a:\n    image: busybox\n    command: sleep 3600\n    stop_signal: SIGKILL\n');
    await p.ok(['up', '-d']);
    const pid = Number(readFileSync(path.join(p.root, 'projects', p.name, 'supervisor.pid'), 'utf8').trim());
    const start = startTime(pid);
    await p.ok(['down', '-t', '0']);
    // no wait here: the same process (pid and start time) must be gone, or a zombie nobody waits for
    let state = '';
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      state = stat[19] === start ? stat[0]! : '';
    } catch {
      /* gone */
    }
    expect(state === '' || state === 'Z', `supervisor ${pid} is in state ${state} after down`).toBe(true);
    expect(leftovers(p.name)).toEqual([]);
  });

  it('keeps named volume data across down/up and removes it only with down -v', async () => {
    p = await CliProject.create(`
services:
  db:
    image: busybox:latest
    command: sleep 3600
    volumes: ["data:/data"]
volumes:
  data: {}
`);
    await p.ok(['up', '-d']);
    await p.ok(['exec', 'db', 'sh', '-c', 'echo kept > /data/file']);
    await p.ok(['down', '-t', '0']);
    await p.ok(['up', '-d']);
    expect((await p.ok(['exec', 'db', 'cat', '/data/file'])).stdout.trim()).toBe('kept');
    await p.ok(['down', '-t', '0', '-v']);
    await p.ok(['up', '-d']);
    expect((await p.run(['exec', 'db', 'cat', '/data/file'])).code).not.toBe(0);
  });

  it('starts a dependent only after its dependency is healthy, and reports a failed condition', async () => {
    p = await CliProject.create(`
services:
  db:
    image: busybox:latest
    command: sh -c 'sleep 2; touch /tmp/ready; sleep 3600'
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 500ms
      retries: 20
  app:
    image: busybox:latest
    command: sleep 3600
    depends_on:
      db: { condition: service_healthy }
`);
    await p.ok(['up', '-d']);
    const ps = await p.ps();
    const db = ps.find((c) => c.Service === 'db')!;
    const app = ps.find((c) => c.Service === 'app')!;
    expect(db.Health).toBe('healthy');
    expect(app.State).toBe('running');
    expect((app.CreatedAt as string) >= (db.CreatedAt as string)).toBe(true);
    await p.ok(['down', '-t', '0']);

    p.write(
      'compose.yaml',
      `
services:
  init:
    image: busybox:latest
    command: sh -c 'exit 3'
  app:
    image: busybox:latest
    command: sleep 3600
    depends_on:
      init: { condition: service_completed_successfully }
`,
    );
    const r = await p.run(['up', '-d']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/init.*exited with code 3/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('up --abort-on-container-exit returns the exit code of --exit-code-from', async () => {
    p = await CliProject.create(`
services:
  job:
    image: busybox:latest
    command: sh -c 'echo working; sleep 1; exit 7'
  side:
    image: busybox:latest
    command: sleep 3600
`);
    const r = await p.run(['up', '--exit-code-from', 'job', '-t', '0'], { timeoutMs: 60_000 });
    expect(r.code).toBe(7);
    expect(r.stdout).toMatch(/job-1\s+\| working/);
    expect((await p.ps()).filter((c) => c.State === 'running')).toEqual([]);
  });

  it('run --rm passes the exit code through and leaves no container', async () => {
    p = await CliProject.create(`
services:
  tool:
    image: busybox:latest
    command: sleep 3600
`);
    const r = await p.run(['run', '--rm', 'tool', 'sh', '-c', 'echo out-$((1+1)); exit 5']);
    expect(r.stdout.trim()).toBe('out-2');
    expect(r.code).toBe(5);
    expect(await p.ps()).toEqual([]);
  });

  it('converges after tscompose is killed in the middle of up', async () => {
    const services = Array.from({ length: 6 }, (_, i) => `  s${i}:\n    image: busybox:latest\n    command: sleep 3600\n`).join('');
    p = await CliProject.create(`services:\n${services}`);
    const child = p.spawn(['up', '-d']);
    await new Promise((r) => setTimeout(r, 700));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    await p.ok(['up', '-d']);
    const ps = await p.ps();
    expect(ps.length).toBe(6);
    expect(new Set(ps.map((c) => c.Name)).size).toBe(6);
    expect(ps.every((c) => c.State === 'running')).toBe(true);
    await p.ok(['down', '-t', '0']);
  });

  it('a taken host port is a clear error naming the project and service holding it, and nothing starts', async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    p = await CliProject.create(`
services:
  holder:
    image: busybox:latest
    command: httpd -f -p 80
    ports: ["127.0.0.1:${port}:80"]
`);
    await p.ok(['up', '-d']);
    const q = await CliProject.create(
      `
services:
  first:
    image: busybox:latest
    command: sleep 3600
  wants:
    image: busybox:latest
    command: httpd -f -p 80
    ports: ["127.0.0.1:${port}:80"]
`,
      {},
      { root: p.root },
    );
    try {
      const r = await q.run(['up', '-d']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`${port}/tcp for service "wants"`);
      expect(r.stderr).toContain(`service "holder" of tscompose project "${p.name}"`);
      expect(await q.ps()).toEqual([]);
    } finally {
      await q.cleanup();
      expect(leftovers(q.name)).toEqual([]);
    }
  });

  it('a broken compose file is one clear error with the file and line, and exit code 1', async () => {
    p = await CliProject.create(`
services:
  web:
    image: busybox:latest
    ports:
      - "not a port"
`);
    const r = await p.run(['up', '-d']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/compose\.yaml:6/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
