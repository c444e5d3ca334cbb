import { describe, expect, it } from 'vitest';
import { TscError } from '../../../src/common/errors.js';
import { TRANSITIONS, assertTransition, canTransition, nextStatus, type LifeState } from '../../../src/supervisor/lifecycle.js';
import type { ContainerStatus } from '../../../src/supervisor/types.js';

const status = (state: ContainerStatus['state']): ContainerStatus => ({
  id: 'c1',
  state,
  pid: null,
  startTime: null,
  startedAt: null,
  finishedAt: null,
  exitCode: null,
  oomKilled: false,
  restartCount: 0,
  stoppedByUser: false,
});

const ALLOWED: Array<[LifeState, LifeState]> = [
  ['created', 'running'],
  ['created', 'dead'],
  ['created', 'exited'],
  ['created', 'created'],
  ['created', 'removed'],
  ['running', 'paused'],
  ['running', 'exited'],
  ['paused', 'running'],
  ['paused', 'exited'],
  ['restarting', 'running'],
  ['restarting', 'exited'],
  ['exited', 'restarting'],
  ['exited', 'created'],
  ['exited', 'removed'],
  ['dead', 'created'],
  ['dead', 'removed'],
];

describe('container lifecycle', () => {
  it('the table holds exactly the moves the supervisor makes', () => {
    const all = Object.entries(TRANSITIONS).flatMap(([from, tos]) => tos.map((to) => [from, to]));
    expect(all.sort()).toEqual([...ALLOWED].sort());
  });

  it.each(ALLOWED)('allows %s → %s', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
    expect(() => assertTransition('c1', from, to)).not.toThrow();
    if (from !== 'removed' && to !== 'removed') {
      const next = nextStatus(status(from), from, to, { exitCode: 3 });
      expect(next.state).toBe(to);
      expect(next.exitCode).toBe(3);
      expect(next.id).toBe('c1');
    }
  });

  it.each([
    ['running', 'created'], // run again while it runs
    ['running', 'removed'], // removed without being stopped
    ['running', 'restarting'], // restart policy before the exit was recorded
    ['paused', 'paused'],
    ['paused', 'removed'],
    ['restarting', 'removed'],
    ['restarting', 'paused'],
    ['exited', 'running'], // a start that was not asked for
    ['exited', 'paused'],
    ['dead', 'running'],
    ['dead', 'restarting'],
    ['removed', 'running'], // a late start of a removed container
    ['removed', 'exited'],
  ] as Array<[LifeState, LifeState]>)('refuses %s → %s with a clear internal error', (from, to) => {
    expect(canTransition(from, to)).toBe(false);
    let err: unknown;
    try {
      assertTransition('c1', from, to);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TscError);
    expect((err as TscError).code).toBe('INTERNAL');
    expect((err as TscError).message).toContain(`container c1 cannot go from ${from} to ${to}`);
  });

  it('nextStatus never changes the record it is given', () => {
    const st = status('running');
    nextStatus(st, 'running', 'exited', { exitCode: 1 });
    expect(st.state).toBe('running');
    expect(st.exitCode).toBeNull();
  });
});
