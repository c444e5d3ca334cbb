import { describe, expect, it } from 'vitest';
import { cpSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../../src/common/paths.js';
import { CliProject } from '../../support/cli.js';

// each test's projects are brought down and checked for leftovers by test/integration/setup-file.ts
let p: CliProject | undefined;

/** A copy of an example folder, run under a unique project name. */
async function example(name: string): Promise<CliProject> {
  const src = path.join(PACKAGE_ROOT, 'examples', name);
  const proj = await CliProject.create(readFileSync(path.join(src, 'compose.yaml'), 'utf8'));
  cpSync(src, proj.dir, { recursive: true });
  return proj;
}

describe('examples', () => {
  it('healthcheck: app starts once db is healthy', async () => {
    p = await example('healthcheck');
    await p.ok(['-p', p.name, 'up', '-d', '--wait', '--wait-timeout', '60']);
    const ps = (await p.ok(['-p', p.name, 'ps', '--format', 'json'])).stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(ps.find((c) => c.Service === 'db')?.Health).toBe('healthy');
    expect(ps.find((c) => c.Service === 'app')?.State).toBe('running');
    expect((await p.ok(['-p', p.name, 'logs', 'app'])).stdout).toMatch(/db is healthy, app starting/);
    await p.ok(['-p', p.name, 'down', '-t', '0']);
  });

  it('multi-network: names resolve only on shared networks; the internal network has no default route', async () => {
    p = await example('multi-network');
    await p.ok(['-p', p.name, 'up', '-d']);
    const sh = (svc: string, cmd: string) => p!.run(['-p', p!.name, 'exec', '-T', svc, 'sh', '-c', cmd]);
    expect((await sh('proxy', 'nslookup api.internal')).code).toBe(0);
    expect((await sh('proxy', 'ping -c 1 -W 2 api')).code).toBe(0);
    expect((await sh('front', 'ping -c 1 -W 2 proxy')).code).toBe(0);
    expect((await sh('front', 'nslookup api')).code).not.toBe(0);
    const routes = (await sh('api', 'ip route')).stdout;
    expect(routes).not.toMatch(/^default/m);
    expect((await sh('front', 'ip route')).stdout).toMatch(/^default via 172\.28\.10\.1/m);
    await p.ok(['-p', p.name, 'down', '-t', '0']);
  });
});
