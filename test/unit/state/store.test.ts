import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TscError } from '../../../src/common/errors.js';
import {
  deleteProjectState,
  emptyProjectState,
  listProjects,
  loadProjectState,
  readProjectState,
  stateFile,
  writeProjectState,
  type ProjectState,
} from '../../../src/state/index.js';

let root: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-state-'));
});

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

function sample(project = 'demo'): ProjectState {
  const s = emptyProjectState(project, new Date('2026-01-01T00:00:00Z'));
  s.containers['demo-web-1'] = {
    id: 'demo-web-1',
    name: 'demo-web-1',
    service: 'web',
    number: 1,
    oneOff: false,
    configHash: 'a'.repeat(64),
    definition: { image: 'busybox', environment: { A: '1' } },
    image: 'busybox:latest',
    imageId: `sha256:${'b'.repeat(64)}`,
    created: '2026-01-01T00:00:01Z',
    netns: '/var/lib/tscompose/projects/demo/netns/demo-web-1',
    addresses: { default: { ipv4: '10.89.0.2', aliases: ['web'] } },
  };
  s.networks.default = { name: 'demo_default', bridge: 'tsc-1a2b3c4d', subnet: '10.89.0.0/24', gateway: '10.89.0.1', created: '2026-01-01T00:00:00Z' };
  s.volumes.data = { name: 'demo_data', path: '/var/lib/tscompose/volumes/demo_data/_data', created: '2026-01-01T00:00:00Z' };
  s.supervisor = { pid: 1234, startTime: 5678, socket: '/x/supervisor.sock', started: '2026-01-01T00:00:00Z' };
  return s;
}

function corruptError(fn: () => unknown): Promise<TscError> {
  return Promise.resolve()
    .then(fn)
    .then(
      () => {
        throw new Error('expected STATE_CORRUPT');
      },
      (e: unknown) => {
        expect(e).toBeInstanceOf(TscError);
        expect((e as TscError).code).toBe('STATE_CORRUPT');
        return e as TscError;
      },
    );
}

describe('project state record', () => {
  it('is absent for a new project, and load gives an empty one', async () => {
    expect(await readProjectState(root, 'demo')).toBeUndefined();
    const s = await loadProjectState(root, 'demo');
    expect(s).toMatchObject({ version: 1, project: 'demo', containers: {}, networks: {}, volumes: {} });
  });

  it('round-trips through the file, keeping fields it does not know', async () => {
    const s = sample();
    (s.containers['demo-web-1'] as Record<string, unknown>).futureField = { x: 1 };
    await writeProjectState(root, s, new Date('2026-02-02T00:00:00Z'));
    const back = await readProjectState(root, 'demo');
    expect(back).toEqual({ ...s, updated: '2026-02-02T00:00:00.000Z' });
    expect((back!.containers['demo-web-1'] as Record<string, unknown>).futureField).toEqual({ x: 1 });
    expect(fs.statSync(stateFile(root, 'demo')).mode & 0o777).toBe(0o600);
  });

  it('writes atomically: readers only ever see a whole record, and no temp file stays', async () => {
    const small = sample();
    const big = sample();
    for (let i = 0; i < 300; i++) {
      big.containers[`demo-web-${i + 2}`] = { ...big.containers['demo-web-1']!, id: `demo-web-${i + 2}`, name: `demo-web-${i + 2}`, number: i + 2 };
    }
    await writeProjectState(root, small);
    let reads = 0;
    let writing = true;
    const reader = (async () => {
      while (writing) {
        const s = await readProjectState(root, 'demo');
        expect([1, 301]).toContain(Object.keys(s!.containers).length);
        reads++;
      }
    })();
    for (let i = 0; i < 24; i++) await writeProjectState(root, i % 2 ? small : big);
    writing = false;
    await reader;
    expect(reads).toBeGreaterThan(0);
    expect(fs.readdirSync(path.dirname(stateFile(root, 'demo')))).toEqual(['state.json']);
  });

  it('removes temp files left by a writer that died before renaming', async () => {
    const dir = path.dirname(stateFile(root, 'demo'));
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, '.state.json.999999999.abcd1234.tmp'), '{"torn');
    fs.writeFileSync(path.join(dir, `.state.json.${process.ppid}.abcd1234.tmp`), '{"in progress elsewhere');
    await writeProjectState(root, sample());
    expect(fs.readdirSync(dir).sort()).toEqual([`.state.json.${process.ppid}.abcd1234.tmp`, 'state.json']);
  });

  it('never writes an invalid record (the old one stays)', async () => {
    await writeProjectState(root, sample());
    const bad = sample();
    (bad.containers['demo-web-1'] as { number: number }).number = 0;
    const e = await writeProjectState(root, bad).then(
      () => undefined,
      (x: unknown) => x as TscError,
    );
    expect(e?.code).toBe('INTERNAL');
    expect((await readProjectState(root, 'demo'))!.containers['demo-web-1']!.number).toBe(1);
  });

  it('reports a file that is not JSON as STATE_CORRUPT with its path', async () => {
    fs.mkdirSync(path.join(root, 'projects', 'demo'), { recursive: true });
    fs.writeFileSync(stateFile(root, 'demo'), '{"version": 1, "proj');
    const e = await corruptError(() => readProjectState(root, 'demo'));
    expect(e.message).toContain(stateFile(root, 'demo'));
    expect(e.message).toContain('is not valid JSON');
    expect(e.hint).toContain('move it aside');
  });

  it('reports a record that does not match the schema, naming the field', async () => {
    const s = sample() as unknown as { containers: Record<string, { number: unknown }> };
    s.containers['demo-web-1']!.number = 'one';
    fs.mkdirSync(path.join(root, 'projects', 'demo'), { recursive: true });
    fs.writeFileSync(stateFile(root, 'demo'), JSON.stringify(s));
    const e = await corruptError(() => readProjectState(root, 'demo'));
    expect(e.message).toMatch(/does not match the state schema: containers\.demo-web-1\.number: /);
  });

  it('refuses a record from a newer schema version or another project', async () => {
    fs.mkdirSync(path.join(root, 'projects', 'demo'), { recursive: true });
    fs.writeFileSync(stateFile(root, 'demo'), JSON.stringify({ ...sample(), version: 7 }));
    expect((await corruptError(() => readProjectState(root, 'demo'))).message).toContain('schema version 7, newer than this tscompose understands (1)');
    fs.writeFileSync(stateFile(root, 'demo'), JSON.stringify(sample('other')));
    expect((await corruptError(() => readProjectState(root, 'demo'))).message).toContain('belongs to project "other", not "demo"');
  });

  it('rejects project names that could escape the state root', async () => {
    for (const bad of ['../x', 'Demo', '', '-x', 'a/b']) {
      const e = await readProjectState(root, bad).then(
        () => undefined,
        (x: unknown) => x as TscError,
      );
      expect(e?.code).toBe('USAGE');
    }
  });

  it('loads an empty record, writes it and deletes it', async () => {
    const s = await loadProjectState(root, 'demo');
    s.networks.default = sample().networks.default!;
    await writeProjectState(root, s);
    expect(Object.keys((await readProjectState(root, 'demo'))!.networks)).toEqual(['default']);
    await deleteProjectState(root, 'demo');
    expect(await readProjectState(root, 'demo')).toBeUndefined();
  });

  it('lists projects sorted, a corrupt one with its error instead of failing', async () => {
    expect(await listProjects(root)).toEqual([]);
    await writeProjectState(root, sample('beta'));
    await writeProjectState(root, sample('alpha'));
    fs.mkdirSync(path.join(root, 'projects', 'broken'), { recursive: true });
    fs.writeFileSync(stateFile(root, 'broken'), 'not json');
    fs.mkdirSync(path.join(root, 'projects', 'empty'), { recursive: true });
    const list = await listProjects(root);
    expect(list.map((p) => [p.project, p.state?.project, p.error?.code])).toEqual([
      ['alpha', 'alpha', undefined],
      ['beta', 'beta', undefined],
      ['broken', undefined, 'STATE_CORRUPT'],
    ]);
  });
});
