/**
 * Nothing in a project reaches the environment of tscompose's own Node processes: a `.env`, an
 * env_file, labels and x- keys that set NODE_OPTIONS (a script to --require) and LD_PRELOAD run
 * nothing in the CLI, the supervisor or the engine's init stage, in `config`, `up` and `run`;
 * the container's own process still gets its env_file values, as in Compose.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { CliProject } from '../../support/cli.js';

describe("a project's variables stay out of tscompose's own processes", () => {
  it('NODE_OPTIONS and LD_PRELOAD from .env, env_file, labels and x- keys run nothing in config, up and run', async () => {
    const p = await CliProject.create('services: {}\n');
    const evil = path.join(p.dir, 'evil.cjs');
    const vars = `NODE_OPTIONS=--require ${evil}\nLD_PRELOAD=${path.join(p.dir, 'evil.so')}\n`;
    // the script leaves a marker in the project directory wherever it runs
    p.write('evil.cjs', `require('fs').writeFileSync(${JSON.stringify(p.dir)} + '/ran-' + process.pid, process.argv.join(' '))`);
    p.write('.env', vars);
    p.write('app.env', vars);
    p.write(
      'compose.yaml',
      `
x-env:
  NODE_OPTIONS: --require ${evil}
services:
  app:
    image: busybox:latest
    command: sleep 3600
    env_file: ./app.env
    labels:
      NODE_OPTIONS: --require ${evil}
      LD_PRELOAD: ./evil.so
    environment:
      FROM_DOTENV: \${NODE_OPTIONS}
`,
    );
    const ran = (): string[] => readdirSync(p.dir).filter((f) => f.startsWith('ran-'));

    const config = await p.ok(['config']);
    expect(config.stderr).not.toMatch(/cannot be preloaded/);
    expect(ran()).toEqual([]);

    await p.ok(['up', '-d']);
    const r = await p.ok(['run', '--rm', 'app', 'sh', '-c', 'echo "$NODE_OPTIONS|$LD_PRELOAD"']);
    // the container's process gets its env_file values, as in Compose
    expect(r.stdout).toContain(`--require ${evil}|${path.join(p.dir, 'evil.so')}`);
    expect(r.stderr).not.toMatch(/cannot be preloaded/);
    expect(ran()).toEqual([]);

    // the supervisor's environment holds none of the project's values
    const pid = Number(readFileSync(path.join(p.root, 'projects', p.name, 'supervisor.pid'), 'utf8').trim());
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    expect(environ.filter((e) => /^(NODE_OPTIONS|LD_PRELOAD|FROM_DOTENV)=/.test(e))).toEqual([]);
  });
});
