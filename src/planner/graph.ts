/**
 * The depends_on graph: cycle detection with a deterministic report (services and their
 * dependencies walked in sorted order, so the same files always name the same cycle), and
 * levels for ordering (a service's level is one more than its deepest dependency's).
 */
import { TscError } from '../common/errors.js';
import { findCycle } from '../common/graph.js';

/** service → names of the services it depends on (only services present in the map count) */
export type DependencyGraph = Map<string, string[]>;

/** Throws SPEC_REFERENCE naming the cycle when the graph has one. */
export function assertAcyclic(graph: DependencyGraph): void {
  const cycle = findCycle(graph);
  if (cycle) {
    throw new TscError('SPEC_REFERENCE', `dependency cycle between services: ${cycle.join(' -> ')}`, {
      hint: 'remove one of these depends_on entries',
    });
  }
}

/** Level of every service: 0 without dependencies, else 1 + the highest level among them. The graph must be acyclic. */
function dependencyLevels(graph: DependencyGraph): Map<string, number> {
  const level = new Map<string, number>();
  const get = (n: string): number => {
    const known = level.get(n);
    if (known !== undefined) return known;
    let l = 0;
    for (const d of graph.get(n) ?? []) if (graph.has(d)) l = Math.max(l, get(d) + 1);
    level.set(n, l);
    return l;
  };
  for (const n of graph.keys()) get(n);
  return level;
}

/** Services in dependency order (dependencies first; same level sorted by name). */
export function dependencyOrder(graph: DependencyGraph): string[] {
  assertAcyclic(graph);
  const level = dependencyLevels(graph);
  return [...graph.keys()].sort((a, b) => level.get(a)! - level.get(b)! || (a < b ? -1 : a > b ? 1 : 0));
}

/** Every service reachable from `roots` through dependencies (roots included). */
export function withDependencies(graph: DependencyGraph, roots: Iterable<string>): Set<string> {
  const out = new Set<string>();
  const walk = (n: string): void => {
    if (out.has(n)) return;
    out.add(n);
    for (const d of graph.get(n) ?? []) if (graph.has(d)) walk(d);
  };
  for (const r of roots) walk(r);
  return out;
}
