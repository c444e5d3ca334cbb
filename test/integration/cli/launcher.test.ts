/**
 * The launcher keeps Node's own option parsing away from the user's arguments: Node 20 reads a
 * `--env-file` anywhere on its command line as its own (nodejs/node#54232), which would load the
 * file into tscompose's own environment and let a NODE_OPTIONS in it run code inside tscompose.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI } from '../../support/cli.js';

function run(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.COMPOSE_FILE;
    delete env.NODE_OPTIONS;
    execFile(CLI, args, { cwd, env, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 128) : 0, stdout, stderr });
    });
  });
}

describe('launcher', () => {
  it('an --env-file setting NODE_OPTIONS runs nothing, and its values stay compose variables', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tsc-launch-'));
    try {
      const marker = path.join(dir, 'ran');
      writeFileSync(path.join(dir, 'evil.cjs'), `require('fs').writeFileSync(${JSON.stringify(marker)}, 'ran')`);
      writeFileSync(path.join(dir, 'my.env'), `NODE_OPTIONS=--require ${path.join(dir, 'evil.cjs')}\nGREETING=from-file\n`);
      writeFileSync(path.join(dir, 'compose.yaml'), 'services:\n  a:\n    image: busybox\n    environment:\n      G: ${GREETING}\n');
      const r = await run(['--env-file', 'my.env', 'config', '--environment'], dir);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(existsSync(marker)).toBe(false);
      // the value comes from the env file, not from a shell variable Node would have set
      expect(r.stdout).toMatch(/^GREETING=from-file\t# env-file/m);
      expect(r.stdout).not.toMatch(/GREETING=from-file\t# shell/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a missing --env-file is our own one-paragraph error, exit 1', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tsc-launch-'));
    try {
      writeFileSync(path.join(dir, 'compose.yaml'), 'services:\n  a:\n    image: busybox\n');
      const r = await run(['--env-file', 'missing.env', 'config'], dir);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/missing\.env/);
      expect(r.stderr).not.toMatch(/^node:/m);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
