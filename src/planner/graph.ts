/**
 * The depends_on graph: cycle detection with a deterministic report (services and their
 * dependencies walked in sorted order, so the same files always name the same cycle), and
 * levels for ordering (a service's level is one more than its deepest dependency's).
 */
import { TscError } from '../common/errors.js';
import { dependencyLevels, findCycle, reachable } from '../common/graph.js';

/** service → names of the services it depends on (only services present in the map count) */
export type DependencyGraph = Map<string, string[]>;

export { dependencyLevels, findCycle };

/** Every service reachable from `roots` through dependencies (roots included). */
export const withDependencies = (graph: DependencyGraph, roots: Iterable<string>): Set<string> => reachable(graph, roots);

/** Throws SPEC_REFERENCE naming the cycle when the graph has one. */
export function assertAcyclic(graph: DependencyGraph): void {
  const cycle = findCycle(graph);
  if (cycle) {
    throw new TscError('SPEC_REFERENCE', `dependency cycle between services: ${cycle.join(' -> ')}`, {
      hint: 'remove one of these depends_on entries',
    });
  }
}

/** Services in dependency order (dependencies first; same level sorted by name). */
export function dependencyOrder(graph: DependencyGraph): string[] {
  assertAcyclic(graph);
  const level = dependencyLevels(graph);
  return [...graph.keys()].sort((a, b) => level.get(a)! - level.get(b)! || (a < b ? -1 : a > b ? 1 : 0));
}
