/** `config --hash`, `--no-consistency`, `--no-path-resolution`, and `config SERVICE` with an unrelated missing env file. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import path from 'node:path';
import { parse } from 'yaml';

import { main } from '../../../src/cli/main.js';
import { configHash } from '../../../src/planner/index.js';
import { withProject } from './helpers.js';

let out = '';
let err = '';
beforeEach(() => {
  out = '';
  err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => ((out += String(s)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => ((err += String(s)), true));
  process.exitCode = undefined;
});
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

const compose =
  'services:\n  web:\n    image: busybox\n    volumes: [./html:/usr/share/html/]\n    env_file: [web.env]\n  db:\n    image: postgres\n    env_file: [db.env]\n';

describe('tscompose config flags', () => {
  it('--hash prints "SERVICE HASH" lines, sorted, with the hash the planner records', async () => {
    await withProject(async (p) => {
      const f = p.write('compose.yaml', compose);
      p.write('web.env', 'A=1\n');
      p.write('db.env', 'B=2\n');
      expect(await main(['-f', f, 'config', '--hash', '*'])).toBe(0);
      const lines = out.trim().split('\n');
      expect(lines.map((l) => l.split(' ')[0])).toEqual(['db', 'web']);
      const { loadProject } = await import('../../../src/compose/index.js');
      const proj = await loadProject({ workingDir: p.dir, files: [f], env: {} });
      expect(lines).toEqual([`db ${configHash(proj.services.db)}`, `web ${configHash(proj.services.web)}`]);
      out = '';
      expect(await main(['-f', f, 'config', '--hash', 'web'])).toBe(0);
      expect(out).toBe(`web ${configHash(proj.services.web)}\n`);
      err = '';
      expect(await main(['-f', f, 'config', '--hash', 'nope'])).toBe(1);
      expect(err).toMatch(/no such service: nope/);
    });
  });

  it("config SERVICE and --hash SERVICE do not need an unrelated service's env file", async () => {
    await withProject(async (p) => {
      const f = p.write('compose.yaml', compose);
      p.write('web.env', 'A=1\n');
      expect(await main(['-f', f, 'config', 'web'])).toBe(0);
      expect(Object.keys((parse(out) as { services: object }).services)).toEqual(['web']);
      expect(await main(['-f', f, 'config', '--hash', 'web'])).toBe(0);
      expect(await main(['-f', f, 'config'])).toBe(1);
      expect(err).toMatch(/services\.db\.env_file: env file .*db\.env not found/);
    });
  });

  it('--no-path-resolution keeps relative paths as written, and still reads env files', async () => {
    await withProject(async (p) => {
      const f = p.write('compose.yaml', compose);
      p.write('web.env', 'A=1\n');
      p.write('db.env', 'B=2\n');
      const cwd = process.cwd();
      process.chdir(p.dir);
      try {
        expect(await main(['-f', f, 'config', '--format', 'json', '--no-path-resolution'])).toBe(0);
      } finally {
        process.chdir(cwd);
      }
      const doc = JSON.parse(out) as {
        services: Record<string, { volumes: { source: string; target: string }[]; env_file: { path: string }[]; environment: object }>;
      };
      expect(doc.services.web.volumes[0]).toMatchObject({ type: 'bind', source: './html', target: '/usr/share/html' });
      expect(doc.services.web.env_file[0].path).toBe('web.env');
      expect(doc.services.web.environment).toEqual({ A: '1' });
      out = '';
      expect(await main(['-f', f, 'config', '--format', 'json'])).toBe(0);
      expect(JSON.parse(out).services.web.volumes[0].source).toBe(path.join(p.dir, 'html'));
    });
  });

  it('--no-consistency prints a model that refers to what is not defined', async () => {
    await withProject(async (p) => {
      const f = p.write('compose.yaml', 'services:\n  web:\n    depends_on: [db]\n    networks: [back]\n    volumes: [data:/data]\n');
      expect(await main(['-f', f, 'config'])).toBe(1);
      expect(err).toMatch(/neither an image nor a build context/);
      err = '';
      expect(await main(['-f', f, 'config', '--no-consistency', '--format', 'json'])).toBe(0);
      expect(err).toBe('');
      const web = JSON.parse(out).services.web;
      expect(web.depends_on).toEqual({ db: { condition: 'service_started', restart: false, required: true } });
      expect(web.networks).toEqual({ back: null });
    });
  });
});
