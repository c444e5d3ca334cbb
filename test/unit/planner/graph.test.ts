import { describe, expect, it } from 'vitest';
import { findCycle } from '../../../src/common/graph.js';
import { dependencyOrder, withDependencies } from '../../../src/planner/graph.js';
import { plan, planDown } from '../../../src/planner/index.js';
import { container, dep, service } from './fixtures.js';

const g = (o: Record<string, string[]>): Map<string, string[]> => new Map(Object.entries(o));

describe('dependency graph', () => {
  it('orders by level, then name', () => {
    const graph = g({ web: ['db', 'cache'], db: [], cache: [], proxy: ['web'], worker: ['db'] });
    // levels: cache 0, db 0, web 1, worker 1, proxy 2; one level sorted by name
    expect(dependencyOrder(graph)).toEqual(['cache', 'db', 'web', 'worker', 'proxy']);
  });

  it('finds self-loops and the first cycle in sorted order, ignoring unknown names', () => {
    expect(findCycle(g({ a: ['a'] }))).toEqual(['a', 'a']);
    expect(findCycle(g({ x: ['y'], y: ['x'], b: ['c'], c: ['b'] }))).toEqual(['b', 'c', 'b']);
    expect(findCycle(g({ a: ['missing'], b: ['a'] }))).toBeUndefined();
    expect(() => dependencyOrder(g({ a: ['b'], b: ['a'] }))).toThrow('dependency cycle between services: a -> b -> a');
  });

  it('collects transitive dependencies', () => {
    const graph = g({ web: ['db'], db: ['vol'], vol: [], other: [] });
    expect([...withDependencies(graph, ['web'])].sort()).toEqual(['db', 'vol', 'web']);
  });
});

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object') {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

describe('purity', () => {
  it('never changes its inputs', () => {
    const db = service('db');
    const web = service('web', { replicas: 2, dependsOn: { db: dep('service_started', true) } });
    const desired = deepFreeze({ project: 'demo', services: [service('db', { extra: { user: 'x' } }), web] });
    const observed = deepFreeze([container('demo', db, 1), container('demo', web, 1), container('demo', web, 3, { state: 'exited' })]);
    const options = deepFreeze({ scale: { web: 1 }, removeOrphans: true });
    const a = plan(desired, observed, options).toString();
    expect(plan(desired, observed, options).toString()).toBe(a);
    expect(() => planDown(desired, observed)).not.toThrow();
  });
});
