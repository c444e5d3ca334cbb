import { describe, expect, it } from 'vitest';
import { dependencyLevels, findCycle, reachable } from '../../../src/common/graph.js';

describe('findCycle', () => {
  it('names the first cycle in sorted order, from a map or a record', () => {
    expect(findCycle({ b: ['c'], a: ['b'], c: ['a'], d: [] })).toEqual(['a', 'b', 'c', 'a']);
    expect(
      findCycle(
        new Map([
          ['x', ['y']],
          ['y', []],
        ]),
      ),
    ).toBeUndefined();
    expect(findCycle({ a: ['a'] })).toEqual(['a', 'a']);
    expect(findCycle({ a: ['missing'] })).toBeUndefined();
  });

  it('walks a chain of 20,000 services without overflowing the stack', () => {
    const n = 20_000;
    const chain: Record<string, string[]> = {};
    for (let i = 0; i < n; i++) chain[`s${i}`] = i + 1 < n ? [`s${i + 1}`] : [];
    expect(findCycle(chain)).toBeUndefined();
    chain[`s${n - 1}`] = ['s0'];
    expect(findCycle(chain)).toHaveLength(n + 1);
  });
});

describe('dependencyLevels and reachable', () => {
  it('give levels and the reachable set of a small graph', () => {
    const g = { web: ['db', 'cache'], db: [], cache: ['db'], other: ['missing'] };
    expect(Object.fromEntries(dependencyLevels(g))).toEqual({ web: 2, db: 0, cache: 1, other: 0 });
    expect([...reachable(g, ['cache'])].sort()).toEqual(['cache', 'db']);
    expect([...reachable(g, ['nope'])]).toEqual([]);
  });

  it('walk a chain of 20,000 services without overflowing the stack (the planner orders with them)', () => {
    const n = 20_000;
    const chain: Record<string, string[]> = {};
    for (let i = 0; i < n; i++) chain[`s${i}`] = i + 1 < n ? [`s${i + 1}`] : [];
    expect(dependencyLevels(chain).get('s0')).toBe(n - 1);
    expect(reachable(chain, ['s0']).size).toBe(n);
  });
});
