/**
 * The runtime's parts that need no kernel: the record's serialized writes, network order and
 * the file-versus-network check, published port mappings, bundle and status files.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { layout } from '../../../src/common/layout.js';
import type { Project, Service } from '../../../src/compose/index.js';
import { emptyProjectState, readProjectState, type ProjectState } from '../../../src/state/index.js';
import type { RuntimeContext } from '../../../src/apply/context.js';
import { checkNetworks, portMappings, serviceNetworkKeys } from '../../../src/apply/networks.js';
import { bundleDirOf, RecordSaver, writeRunConfig } from '../../../src/apply/records.js';
import { statusFromFile } from '../../../src/apply/status-file.js';

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});
const tempRoot = () => {
  const r = mkdtempSync(path.join(os.tmpdir(), 'tsc-apply-'));
  roots.push(r);
  return r;
};

describe('RecordSaver', () => {
  it('saves asked before a queued write begins share it, and a change made meanwhile rides along', async () => {
    const root = tempRoot();
    const state: ProjectState = emptyProjectState('demo');
    const saver = new RecordSaver(root, () => state);
    state.workingDir = '/one';
    const first = saver.save();
    const second = saver.save();
    const third = saver.save();
    // asked before the queued write begins: they share it (one write for a burst of changes)
    expect(second).toBe(first);
    expect(third).toBe(first);
    state.workingDir = '/two';
    await Promise.all([first, second, third]);
    expect((await readProjectState(root, 'demo'))?.workingDir).toBe('/two');
    // no temp file left behind
    expect(readdirSync(layout.project(root, 'demo')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('bundle files', () => {
  it('the bundle is named by layout; apply writes the run request (run.json) and never a status record', () => {
    const root = tempRoot();
    const ctx = { root, name: 'demo' };
    const dir = bundleDirOf(ctx, 'demo-app-1');
    expect(dir).toBe(layout.container(root, 'demo', 'demo-app-1'));
    writeRunConfig(dir, { spec: {}, labels: { a: 'b' } } as never);
    expect(readdirSync(dir).sort()).toEqual(['run.json']);
    expect(statusFromFile(dir, {})).toBeUndefined();
  });

  it('no module of src/apply writes a status record: the supervisor is its one writer (one-offs included)', () => {
    const dir = path.resolve(__dirname, '../../../src/apply');
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      const text = readFileSync(path.join(dir, f), 'utf8');
      expect({ f, writes: /writeFile\w*\([^;]*\.status\b/.test(text) }).toEqual({ f, writes: false });
    }
  });
});

describe('networks', () => {
  it('interface order: higher priority first, then by name; none with a network_mode', () => {
    const s = { networks: { b: null, a: null, front: { priority: 10 } } } as unknown as Service;
    expect(serviceNetworkKeys(s)).toEqual(['front', 'a', 'b']);
    expect(serviceNetworkKeys({ ...s, network_mode: 'host' } as Service)).toEqual([]);
  });

  it('refuses a file that asks another subnet or internal flag than the existing network', () => {
    const state = emptyProjectState('demo');
    state.networks.default = { name: 'demo_default', bridge: 'tsc-x', subnet: '172.30.0.0/24', gateway: '172.30.0.1', created: 'now' } as never;
    const project = {
      name: 'demo',
      networks: { default: { name: 'demo_default', ipam: { config: [{ subnet: '172.31.0.0/24' }] }, internal: true } },
    } as unknown as Project;
    const ctx = { root: '/r', name: 'demo', project, state } as RuntimeContext;
    expect(() => checkNetworks(ctx)).toThrow(/network "default" \(subnet 172\.30\.0\.0\/24 → 172\.31\.0\.0\/24, internal false → true\).*Nothing was changed/);
    expect(() => checkNetworks(ctx, ['other'])).not.toThrow();
    (project.networks.default as { ipam?: unknown; internal?: boolean }).ipam = { config: [{ subnet: '172.30.0.5/24' }] };
    (project.networks.default as { internal?: boolean }).internal = false;
    expect(() => checkNetworks(ctx)).not.toThrow();
  });

  it('ports: published ranges, random host ports, host ip; sctp refused', () => {
    const s = {
      name: 'web',
      ports: [
        { target: 80, published: '8080', protocol: 'tcp', host_ip: '127.0.0.1' },
        { target: 53, published: '5353-5354', protocol: 'udp' },
        { target: 9000, protocol: 'tcp' },
      ],
    } as unknown as Service;
    expect(portMappings(s)).toEqual([
      { proto: 'tcp', hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80 },
      { proto: 'udp', hostIp: undefined, hostPort: 5353, hostPortEnd: 5354, containerPort: 53 },
      { proto: 'tcp', hostIp: undefined, hostPort: 0, containerPort: 9000 },
    ]);
    expect(() => portMappings({ name: 'x', ports: [{ target: 1, protocol: 'sctp' }] } as unknown as Service)).toThrow(/sctp/);
    expect(() => portMappings({ name: 'x', ports: [{ target: 1, published: 'abc', protocol: 'tcp' }] } as unknown as Service)).toThrow(
      /invalid published port/,
    );
  });
});
