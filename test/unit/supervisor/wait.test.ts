import { describe, expect, it } from 'vitest';
import { MAX_RESTARTS_WHILE_WAITING, judgeWait, type WaitSubject } from '../../../src/supervisor/wait.js';
import type { ContainerStatus, RestartPolicy } from '../../../src/supervisor/types.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
function subject(st: Partial<ContainerStatus>, restart: RestartPolicy = { name: 'no' }, health = false): WaitSubject {
  return {
    status: {
      id: 'c',
      state: 'running',
      pid: 1,
      startTime: 1,
      startedAt: null,
      finishedAt: null,
      exitCode: null,
      oomKilled: false,
      restartCount: 0,
      stoppedByUser: false,
      ...st,
    },
    config: { restart, healthcheck: health ? { test: ['CMD', 'false'], interval: 1000, timeout: 1000, retries: 1, startPeriod: 0 } : undefined },
  };
}
const later = new Date(T0 + 1000).toISOString();

describe('judgeWait', () => {
  it('an exit the restart policy undoes is not an outcome; one it does not undo is', () => {
    expect(judgeWait(subject({ state: 'exited', exitCode: 1, finishedAt: later }, { name: 'always' }), 'running', 0, T0)).toBe('pending');
    expect(judgeWait(subject({ state: 'exited', exitCode: 1, finishedAt: later }), 'running', 0, T0)).toMatchObject({
      failed: 'container c exited with code 1 instead of running',
    });
    expect(judgeWait(subject({ state: 'exited', exitCode: 3, finishedAt: later }), 'exited', 0, T0)).toBe('met');
    expect(judgeWait(subject({ state: 'restarting', exitCode: 3, finishedAt: later }, { name: 'on-failure' }), 'exited', 0, T0)).toBe('pending');
    expect(judgeWait(subject({ state: 'restarting', exitCode: 0, finishedAt: later }, { name: 'always' }), 'exited', 0, T0)).toBe('met');
    // on-failure:2 after its last retry: decided
    expect(
      judgeWait(subject({ state: 'exited', exitCode: 3, restartCount: 2, finishedAt: later }, { name: 'on-failure', maxRetries: 2 }), 'exited', 0, T0),
    ).toBe('met');
  });

  it('fails a wait on a crash loop after MAX_RESTARTS_WHILE_WAITING restarts counted from the wait', () => {
    const loop = (n: number) => subject({ state: 'restarting', exitCode: 1, restartCount: 10 + n, finishedAt: later }, { name: 'always' }, true);
    expect(judgeWait(loop(MAX_RESTARTS_WHILE_WAITING - 1), 'healthy', 10, T0)).toBe('pending');
    expect(judgeWait(loop(MAX_RESTARTS_WHILE_WAITING), 'healthy', 10, T0)).toMatchObject({
      failed: expect.stringMatching(/restarting in a loop \(restarted 3 times while waiting, last exit code 1\)/),
    });
    expect(judgeWait(loop(MAX_RESTARTS_WHILE_WAITING), 'exited', 10, T0)).toMatchObject({ failed: expect.stringMatching(/restarting in a loop/) });
  });

  it('unhealthy is decided at once; healthy is met', () => {
    const h = (status: 'healthy' | 'unhealthy' | 'starting') => subject({ health: { status, failingStreak: 0, log: [] } }, { name: 'always' }, true);
    expect(judgeWait(h('unhealthy'), 'healthy', 0, T0)).toMatchObject({ failed: 'container c is unhealthy' });
    expect(judgeWait(h('healthy'), 'healthy', 0, T0)).toBe('met');
    expect(judgeWait(h('starting'), 'healthy', 0, T0)).toBe('pending');
    expect(judgeWait(subject({}), 'healthy', 0, T0)).toMatchObject({ failed: expect.stringMatching(/no healthcheck/) });
  });
});
