import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ProjectStore, readProjectState, stateFile } from '../../../src/state/index.js';

let root: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-store-'));
});

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

function record(i: number) {
  return {
    id: `demo-web-${i}`,
    name: `demo-web-${i}`,
    service: 'web',
    number: i,
    oneOff: false,
    configHash: 'h',
    definition: {},
    image: 'busybox',
    imageId: 'sha256:x',
    created: '2026-01-01T00:00:00Z',
  };
}

describe('ProjectStore', () => {
  it('writes nothing until the first change', async () => {
    const store = await ProjectStore.open(root, 'demo');
    expect(store.snapshot().containers).toEqual({});
    expect(fs.existsSync(stateFile(root, 'demo'))).toBe(false);
  });

  it('serializes concurrent changes so none is lost', async () => {
    const store = await ProjectStore.open(root, 'demo');
    await Promise.all(
      Array.from({ length: 40 }, (_, k) =>
        store.update(async (s) => {
          await new Promise((r) => setTimeout(r, (k * 7) % 5));
          s.containers[`demo-web-${k + 1}`] = record(k + 1);
        }),
      ),
    );
    expect(Object.keys((await readProjectState(root, 'demo'))!.containers)).toHaveLength(40);
    expect(Object.keys(store.snapshot().containers)).toHaveLength(40);
  });

  it('keeps the record unchanged when a change fails, and goes on with the next', async () => {
    const store = await ProjectStore.open(root, 'demo');
    await store.update((s) => {
      s.containers['demo-web-1'] = record(1);
    });
    const failing = store.update((s) => {
      delete s.containers['demo-web-1'];
      throw new Error('engine said no');
    });
    const invalid = store.update((s) => {
      s.containers['demo-web-2'] = { ...record(2), number: -1 };
    });
    const next = store.update((s) => {
      s.containers['demo-web-3'] = record(3);
      return 'ok';
    });
    await expect(failing).rejects.toThrow('engine said no');
    await expect(invalid).rejects.toMatchObject({ code: 'INTERNAL' });
    expect(await next).toBe('ok');
    await store.flush();
    expect(Object.keys((await readProjectState(root, 'demo'))!.containers).sort()).toEqual(['demo-web-1', 'demo-web-3']);
  });

  it('hands out copies, so callers cannot change the record behind its back', async () => {
    const store = await ProjectStore.open(root, 'demo');
    const snap = store.snapshot();
    snap.containers.x = record(9);
    expect(store.snapshot().containers).toEqual({});
  });
});
