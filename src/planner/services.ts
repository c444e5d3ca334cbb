/** The desired services as the planner reads them: lookup, dependency graph, container names. */
import { TscError } from '../common/errors.js';
import type { DependencyGraph } from './graph.js';
import type { DesiredProject, DesiredService, ObservedContainer } from './types.js';

export function nameOf(c: ObservedContainer): string {
  return c.name ?? c.id;
}

/** Compose's default container name: `<project>-<service>-<number>`. */
export function containerNameFor(project: string, service: DesiredService, number: number): string {
  return service.containerName ?? `${project}-${service.name}-${number}`;
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function unknownService(name: string, services: Map<string, DesiredService>, disabled: Set<string>, what: string): TscError {
  if (disabled.has(name)) {
    return new TscError('NO_SUCH_SERVICE', `${what} "${name}" is disabled by its profiles`, {
      hint: `enable one of its profiles with --profile or COMPOSE_PROFILES`,
    });
  }
  const known = [...services.keys()].sort();
  return new TscError('NO_SUCH_SERVICE', `${what} "${name}" is not defined in the project`, {
    hint: known.length ? `services: ${known.join(', ')}` : 'the project defines no services',
  });
}

/**
 * The dependency graph: depends_on only. The loader already added the dependencies Compose
 * implies (links, `service:X` namespaces, volumes_from) to depends_on; they are not added here
 * a second time.
 */
export function buildGraph(desired: DesiredProject): DependencyGraph {
  const graph: DependencyGraph = new Map();
  for (const s of [...desired.services].sort((a, b) => cmp(a.name, b.name))) {
    graph.set(s.name, Object.keys(s.dependsOn).sort());
  }
  return graph;
}

export function checkServices(desired: DesiredProject): Map<string, DesiredService> {
  const services = new Map<string, DesiredService>();
  for (const s of desired.services) {
    if (services.has(s.name)) throw new TscError('PLAN', `service "${s.name}" is given twice to the planner`);
    services.set(s.name, s);
  }
  return services;
}
