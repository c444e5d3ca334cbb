import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CliProject, leftovers, waitFor } from '../../support/cli.js';

// each test's projects are brought down and checked for leftovers by test/integration/setup-file.ts
let p: CliProject | undefined;

const COMPOSE = `
services:
  db:
    image: busybox:latest
    command: sleep 3600
    volumes: ["data:/data", "/anon"]
  app:
    image: busybox:latest
    command: sh -c 'echo hello from app; exec sleep 3600'
    depends_on: [db]
volumes:
  data: {}
`;

interface PsRow {
  Name: string;
  Service: string;
  State: string;
}

function rows(stdout: string): PsRow[] {
  return stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as PsRow)
    .sort((a, b) => a.Service.localeCompare(b.Service));
}

function noStack(text: string): void {
  expect(text).not.toMatch(/\n\s+at /);
}

describe('verbs on a project by name, without its compose file (as docker compose -p NAME)', () => {
  it('ps, logs, stop, start, restart, exec, top, images, pause, kill, rm and down -v from an empty directory work from the record, even with the file gone', async () => {
    p = await CliProject.create(COMPOSE);
    await p.ok(['up', '-d']);
    const volumes = (): string[] => (existsSync(path.join(p!.root, 'volumes')) ? readdirSync(path.join(p!.root, 'volumes')) : []);
    expect(volumes()).toHaveLength(2);

    // the project's own folder loses its file: only the record is left to go by
    const file = path.join(p.dir, 'compose.yaml');
    rmSync(file);
    const elsewhere = mkdtempSync(path.join(os.tmpdir(), 'tsc-byname-'));
    const byName = (args: string[]) => p!.ok(['-p', p!.name, ...args], { cwd: elsewhere });
    try {
      const ps = rows((await byName(['ps', '--format', 'json'])).stdout);
      expect(ps.map((r) => [r.Service, r.State])).toEqual([
        ['app', 'running'],
        ['db', 'running'],
      ]);
      await waitFor(async () => (await byName(['logs', 'app'])).stdout.includes('hello from app'), 30_000, 'the log line of app');
      expect((await byName(['logs', '--no-log-prefix', 'app'])).stdout).toBe('hello from app\n');

      // stop goes in reverse dependency order: app before db
      const stop = await byName(['stop', '-t', '0']);
      expect(stop.stderr.indexOf(`${p.name}-app-1`)).toBeLessThan(stop.stderr.indexOf(`${p.name}-db-1`));
      expect(rows((await byName(['ps', '-a', '--format', 'json'])).stdout).map((r) => r.State)).toEqual(['exited', 'exited']);
      expect((await byName(['ps', '-q'])).stdout).toBe('');

      await byName(['start']);
      expect(rows((await byName(['ps', '--format', 'json'])).stdout).map((r) => r.State)).toEqual(['running', 'running']);
      await byName(['restart', '-t', '0', 'app']);
      expect(rows((await byName(['ps', '--format', 'json'])).stdout).map((r) => r.State)).toEqual(['running', 'running']);

      // the other verbs Compose runs by name
      expect((await byName(['exec', '-T', 'db', 'echo', 'inside'])).stdout).toBe('inside\n');
      expect((await byName(['top', 'db'])).stdout).toMatch(new RegExp(`^${p.name}-db-1\n.*sleep 3600`, 's'));
      expect((await byName(['images', '--format', 'json'])).stdout).toContain('"Repository":"busybox"');
      await byName(['pause', 'db']);
      expect(rows((await byName(['ps', '--format', 'json'])).stdout).map((r) => r.State)).toEqual(['running', 'paused']);
      await byName(['unpause']);
      await byName(['kill', 'app']);
      await waitFor(async () => rows((await byName(['ps', '-a', '--format', 'json'])).stdout)[0]?.State === 'exited', 30_000, 'app killed');
      await byName(['rm', '-f', 'app']);
      expect(rows((await byName(['ps', '-a', '--format', 'json'])).stdout).map((r) => [r.Service, r.State])).toEqual([['db', 'running']]);

      // a service the record does not know is the usual error
      const unknown = await p.run(['-p', p.name, 'stop', 'nosuch'], { cwd: elsewhere });
      expect([unknown.code, unknown.stderr]).toEqual([1, expect.stringMatching(/no such service: nosuch/)]);
      noStack(unknown.stderr);

      await byName(['down', '-v', '-t', '0']);
      expect(existsSync(path.join(p.root, 'projects', p.name, 'state.json'))).toBe(false);
      expect(volumes()).toEqual([]);
      expect((await byName(['ps', '-a', '-q'])).stdout).toBe('');
      expect((await p.ok(['ls', '-a', '-q'], { cwd: elsewhere })).stdout).toBe('');
      expect(leftovers(p.name)).toEqual([]);
    } finally {
      // so the cleanup's own `down` finds the project, whatever failed above
      writeFileSync(file, COMPOSE);
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('a project that does not exist: down, ps, stop and kill do nothing, start says so; up, run, config still need a file', async () => {
    p = await CliProject.create(COMPOSE);
    const elsewhere = mkdtempSync(path.join(os.tmpdir(), 'tsc-byname-'));
    const missing = `${p.name}none`;
    const run = (args: string[]) => p!.run(['-p', missing, ...args], { cwd: elsewhere });
    try {
      const down = await run(['down', '-v']);
      expect([down.code, down.stderr]).toEqual([0, `warning: no resource found to remove for project "${missing}"\n`]);
      expect(await run(['ps'])).toEqual({ code: 0, stdout: 'NAME   IMAGE   COMMAND   SERVICE   CREATED   STATUS   PORTS\n', stderr: '' });
      expect((await run(['stop'])).code).toBe(0);
      expect((await run(['kill'])).code).toBe(0);
      expect((await run(['logs'])).code).toBe(0);

      const start = await run(['start']);
      expect([start.code, start.stderr]).toEqual([1, expect.stringContaining(`no container found for project "${missing}"`)]);
      noStack(start.stderr);
      for (const verb of [['up', '-d'], ['create'], ['run', 'app', 'true'], ['config'], ['build']]) {
        const r = await run(verb);
        expect([verb, r.code, r.stderr]).toEqual([verb, 1, expect.stringMatching(/no configuration file provided/)]);
        noStack(r.stderr);
      }
      // COMPOSE_PROJECT_NAME names the project as -p does
      const env = await p.run(['down'], { cwd: elsewhere, env: { COMPOSE_PROJECT_NAME: missing } });
      expect([env.code, env.stderr]).toEqual([0, expect.stringContaining(`project "${missing}"`)]);
      // nothing was made for it
      expect(existsSync(path.join(p.root, 'projects', missing))).toBe(false);
      expect(leftovers(missing)).toEqual([]);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('a compose file in the directory, -f and COMPOSE_FILE still win over the name', async () => {
    p = await CliProject.create(COMPOSE);
    await p.ok(['up', '-d']);
    const elsewhere = mkdtempSync(path.join(os.tmpdir(), 'tsc-byname-'));
    try {
      const file = path.join(p.dir, 'compose.yaml');
      // -f and COMPOSE_FILE load the file (config needs one, and gets it)
      expect((await p.ok(['-p', p.name, '-f', file, 'config', '--services'], { cwd: elsewhere })).stdout).toBe('app\ndb\n');
      expect((await p.ok(['-p', p.name, 'config', '--services'], { cwd: elsewhere, env: { COMPOSE_FILE: file } })).stdout).toBe('app\ndb\n');
      // a named file that is missing is its own error, never the record
      const gone = await p.run(['-p', p.name, '-f', path.join(elsewhere, 'nope.yaml'), 'ps'], { cwd: elsewhere });
      expect(gone.code).toBe(1);
      noStack(gone.stderr);
      // a file in the directory is the project's model: its services are what `ps` checks names against
      writeFileSync(path.join(elsewhere, 'compose.yaml'), readFileSync(file, 'utf8').replace('  app:', '  other:'));
      const other = await p.run(['-p', p.name, 'ps', 'app'], { cwd: elsewhere });
      expect([other.code, other.stderr]).toEqual([1, expect.stringMatching(/no such service: app/)]);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
