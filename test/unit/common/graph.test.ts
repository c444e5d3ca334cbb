import { describe, expect, it } from 'vitest';
import { findCycle } from '../../../src/common/graph.js';

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
