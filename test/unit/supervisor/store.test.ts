import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { TscError } from '../../../src/common/errors.js';
import { recordedProcessGone, settleRecordedStatus } from '../../../src/supervisor/liveness.js';
import { newManaged } from '../../../src/supervisor/managed.js';
import { RecordStore } from '../../../src/supervisor/store.js';
import type { ContainerStatus } from '../../../src/supervisor/types.js';
import { processStartTime } from '../../../src/engine/procfs.js';
import { hostSpec, tempRoot } from './helpers.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function status(id: string, state: ContainerStatus['state'], extra: Partial<ContainerStatus> = {}): ContainerStatus {
  return {
    id,
    state,
    pid: null,
    startTime: null,
    startedAt: null,
    finishedAt: null,
    exitCode: null,
    oomKilled: false,
    restartCount: 0,
    stoppedByUser: false,
    ...extra,
  };
}

describe('record store: the one writer of status records', () => {
  function setup() {
    const { root, cleanup } = tempRoot();
    cleanups.push(cleanup);
    const spec = hostSpec(root, 'p', ['true']);
    mkdirSync(spec.bundleDir, { recursive: true });
    const lines: string[] = [];
    const store = new RecordStore(`${root}/projects/p/supervised.json`, (l) => lines.push(l));
    const m = newManaged({ spec, restart: { name: 'no' } }, status(spec.id, 'created'));
    store.create(m);
    const onDisk = (): ContainerStatus => JSON.parse(readFileSync(m.files.status, 'utf8')) as ContainerStatus;
    return { store, m, onDisk, lines };
  }

  it('a transition is applied and persisted; records are root-only', () => {
    const { store, m, onDisk } = setup();
    expect(onDisk().state).toBe('created');
    expect(statSync(m.files.status).mode & 0o777).toBe(0o600);
    expect(statSync(m.files.run).mode & 0o777).toBe(0o600);
    store.transition(m, 'running', { pid: 42, startTime: 7 });
    expect(m.status).toMatchObject({ state: 'running', pid: 42, startTime: 7 });
    expect(onDisk()).toMatchObject({ state: 'running', pid: 42 });
    store.update(m, { stoppedByUser: true });
    expect(onDisk()).toMatchObject({ state: 'running', stoppedByUser: true });
  });

  it('an invalid transition is refused and nothing is written', () => {
    const { store, m, onDisk } = setup();
    expect(() => store.transition(m, 'paused')).toThrow(TscError);
    expect(m.status.state).toBe('created');
    expect(onDisk().state).toBe('created');
  });

  it('after removed, nothing writes the record again and no move is allowed', () => {
    const { store, m } = setup();
    store.transition(m, 'dead');
    store.transition(m, 'removed');
    expect(m.removed).toBe(true);
    expect(() => store.transition(m, 'created')).toThrow(/cannot go from removed to created/);
  });

  it('a status write that failed is logged, makes saved throw, and is written again by flush', () => {
    const { store, m, onDisk, lines } = setup();
    // a directory where the record goes: the rename over it fails, as a full disk's write would
    rmSync(m.files.status);
    mkdirSync(path.join(m.files.status, 'x'), { recursive: true });
    store.transition(m, 'running', { pid: 42, startTime: 7 });
    expect(m.status.state).toBe('running');
    expect(lines.at(-1)).toMatch(/saving status failed/);
    expect(() => store.saved(m)).toThrow();
    store.flush();
    expect(() => store.saved(m)).toThrow(); // still failing: still unsaved
    rmSync(m.files.status, { recursive: true });
    store.flush();
    expect(() => store.saved(m)).not.toThrow();
    expect(onDisk()).toMatchObject({ state: 'running', pid: 42 });
  });

  it('writes the index of bundle dirs', () => {
    const { store, m } = setup();
    store.writeIndex([[m.status.id, m]]);
    expect(store.readIndex()).toEqual({ [m.status.id]: m.config.spec.bundleDir });
  });
});

describe('liveness of recorded containers', () => {
  const me = { pid: process.pid, startTime: processStartTime(process.pid)! };

  it('a running or paused record whose process is there is live', () => {
    expect(recordedProcessGone(status('a', 'running', me))).toBe(false);
    expect(recordedProcessGone(status('a', 'paused', me))).toBe(false);
  });

  it('a running record whose pid is gone or reused (other start time) is gone', () => {
    expect(recordedProcessGone(status('a', 'running', { pid: me.pid, startTime: me.startTime + 1 }))).toBe(true);
    expect(recordedProcessGone(status('a', 'running', { pid: null, startTime: null }))).toBe(true);
    const settled = settleRecordedStatus(status('a', 'paused', { pid: me.pid, startTime: me.startTime + 1, exitCode: 0 }));
    expect(settled).toMatchObject({ state: 'exited', pid: null, startTime: null, exitCode: null });
    expect(settled.exitReason).toMatch(/no supervisor was watching/);
  });

  it('a pending restart is over only when no supervisor runs', () => {
    const r = status('a', 'restarting');
    expect(recordedProcessGone(r)).toBe(false);
    expect(recordedProcessGone(r, { unsupervised: true })).toBe(true);
    expect(settleRecordedStatus(status('a', 'exited', { exitCode: 2 }), { unsupervised: true })).toMatchObject({ state: 'exited', exitCode: 2 });
  });
});
