import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

import { main } from '../../../src/cli/main.js';
import { withProject } from './helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

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

describe('tscompose config', () => {
  for (const ex of ['quickstart', 'healthcheck', 'multi-network']) {
    it(`prints the normalized model of examples/${ex}`, async () => {
      const code = await main(['-f', path.join(root, 'examples', ex, 'compose.yaml'), 'config']);
      expect(err).toBe('');
      expect(code).toBe(0);
      const doc = parse(out) as { name: string; services: Record<string, { image: string; networks: unknown }> };
      expect(doc.name).toBe(ex);
      for (const s of Object.values(doc.services)) {
        expect(s.image).toBe('busybox:latest');
        expect(s.networks).toBeDefined();
      }
    });
  }

  it('prints every example in examples/ without error', async () => {
    const dirs = readdirSync(path.join(root, 'examples')).filter((d) => existsSync(path.join(root, 'examples', d, 'compose.yaml')));
    expect(dirs.length).toBeGreaterThanOrEqual(3);
    for (const d of dirs) {
      out = '';
      err = '';
      const code = await main(['-f', path.join(root, 'examples', d, 'compose.yaml'), 'config']);
      expect({ example: d, code, errors: err.split('\n').filter((l) => !l.startsWith('warning:') && l !== '') }).toEqual({ example: d, code: 0, errors: [] });
      expect(Object.keys((parse(out) as { services: object }).services).length).toBeGreaterThan(0);
    }
  });

  it('prints long syntax, absolute paths, sizes and durations as docker compose does', async () => {
    const code = await main(['-f', path.join(root, 'examples/quickstart/compose.yaml'), 'config']);
    expect(code).toBe(0);
    const doc = parse(out) as { services: Record<string, Record<string, unknown>> };
    expect(doc.services.web.ports).toEqual([{ target: 80, published: '8080', protocol: 'tcp', mode: 'ingress' }]);
    expect(doc.services.web.volumes).toEqual([
      { type: 'bind', source: path.join(root, 'examples/quickstart/site'), target: '/www', read_only: true, bind: { create_host_path: true } },
    ]);
    expect(doc.services.web.mem_limit).toBe(String(64 * 1024 * 1024));
    out = '';
    await main(['-f', path.join(root, 'examples/healthcheck/compose.yaml'), 'config', '--format', 'json']);
    const json = JSON.parse(out) as { services: { db: { healthcheck: Record<string, unknown> } } };
    expect(json.services.db.healthcheck).toMatchObject({ interval: '1s', timeout: '2s', retries: 10, start_period: '1s' });
  });

  it('--services, --volumes, --profiles, -q, --environment', async () => {
    await withProject(async (p) => {
      p.write(
        'compose.yaml',
        'services:\n  web:\n    image: ${IMG:-busybox}\n    volumes: [data:/d]\n  dbg:\n    image: busybox\n    profiles: [debug]\nvolumes:\n  data: {}\n',
      );
      p.write('.env', 'UNUSED=1\n');
      const f = path.join(p.dir, 'compose.yaml');
      expect(await main(['-f', f, 'config', '--services'])).toBe(0);
      expect(out).toBe('web\n');
      out = '';
      await main(['-f', f, '--profile', 'debug', 'config', '--services']);
      expect(out).toBe('dbg\nweb\n');
      out = '';
      await main(['-f', f, 'config', '--volumes']);
      expect(out).toBe('data\n');
      out = '';
      await main(['-f', f, 'config', '--profiles']);
      expect(out).toBe('debug\n');
      out = '';
      expect(await main(['-f', f, 'config', '-q'])).toBe(0);
      expect(out).toBe('');
      await main(['-f', f, 'config', '--environment']);
      expect(out).toMatch(/^IMG=busybox\t# default; used in .*compose\.yaml:3:5 services\.web\.image\n$/);
    });
  });

  it('--images lists images; -o writes to a file', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'name: demo\nservices:\n  web:\n    image: busybox:latest\n  built:\n    build: .\n');
      const f = path.join(p.dir, 'compose.yaml');
      expect(await main(['-f', f, 'config', '--images'])).toBe(0);
      expect(out).toBe('demo-built\nbusybox:latest\n');
      out = '';
      const target = path.join(p.dir, 'out.yaml');
      expect(await main(['-f', f, 'config', '-o', target])).toBe(0);
      expect(out).toBe('');
      expect((parse(readFileSync(target, 'utf8')) as { name: string }).name).toBe('demo');
    });
  });

  it('a broken file prints one clear error and exits 1, no stack trace', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  web:\n    image: busybox\n    port: ["80:80"]\n');
      const code = await main(['-f', path.join(p.dir, 'compose.yaml'), 'config']);
      expect(code).toBe(1);
      expect(out).toBe('');
      expect(err).toMatch(/^error: .*compose\.yaml:4:5: services\.web\.port: unknown key "port"\nhint: did you mean "ports"\?\n$/);
      expect(err).not.toMatch(/at .*\.ts:\d+/);
    });
  });

  it('--no-interpolate prints expressions as written', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  web:\n    image: ${IMG:?required}\n    ports: ["${PORT}:80"]\n    deploy:\n      replicas: ${N}\n');
      const f = path.join(p.dir, 'compose.yaml');
      expect(await main(['-f', f, 'config'])).toBe(1);
      expect(err).toMatch(/required variable IMG/);
      expect(await main(['-f', f, 'config', '--no-interpolate'])).toBe(0);
      const doc = parse(out) as { services: { web: Record<string, unknown> } };
      expect(doc.services.web.image).toBe('${IMG:?required}');
      expect(doc.services.web.ports).toEqual(['${PORT}:80']);
      expect(doc.services.web.deploy).toEqual({ replicas: '${N}' });
    });
  });

  it('prints warnings for unsupported keys on stderr', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  web:\n    image: busybox\n    devices: ["/dev/fuse"]\n');
      expect(await main(['-f', path.join(p.dir, 'compose.yaml'), 'config', '-q'])).toBe(0);
      expect(err).toMatch(/warning: services\.web\.devices is not supported by tscompose yet/);
    });
  });
});
