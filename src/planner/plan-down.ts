/** The plan of `down`: remove every container of the project, dependents first. */
import { assertAcyclic, dependencyOrder } from './graph.js';
import { orderActions, Plan } from './plan.js';
import { buildGraph, checkServices, cmp, nameOf } from './services.js';
import type { DesiredProject, ObservedContainer, PlanAction } from './types.js';

export interface DownOptions {
  removeOrphans?: boolean;
}

/**
 * Plans `down`: every container of the project's services (one-off containers included) is
 * stopped and removed, dependents before their dependencies. Orphans are removed only with
 * `removeOrphans`, otherwise named in a warning. Networks and volumes are the caller's (after
 * every container is gone).
 */
export function planDown(desired: DesiredProject, observed: readonly ObservedContainer[], options: DownOptions = {}): Plan {
  const services = checkServices(desired);
  const disabled = new Set(desired.disabledServices ?? []);
  const graph = buildGraph(desired);
  assertAcyclic(graph);
  const dependents = new Map<string, string[]>();
  for (const [s, deps] of graph) for (const d of deps) if (graph.has(d)) dependents.set(d, [...(dependents.get(d) ?? []), s]);

  const actions: PlanAction[] = [];
  const warnings: string[] = [];
  const orphans: ObservedContainer[] = [];
  const sorted = [...observed].sort((a, b) => cmp(a.service, b.service) || Number(a.oneOff) - Number(b.oneOff) || a.number - b.number || cmp(a.id, b.id));
  const removals = new Map<string, string[]>();
  for (const c of sorted) {
    if (!services.has(c.service) && !disabled.has(c.service)) {
      orphans.push(c);
      continue;
    }
    const reason = c.state === 'running' || c.state === 'restarting' || c.state === 'paused' ? `${c.state}, stop and remove` : `${c.state}, remove`;
    const a: PlanAction = {
      id: `remove:${nameOf(c)}`,
      kind: 'remove',
      service: c.service,
      container: nameOf(c),
      containerId: c.id,
      number: c.number,
      reason: c.oneOff ? `one-off container, ${reason}` : reason,
      after: [],
    };
    actions.push(a);
    removals.set(c.service, [...(removals.get(c.service) ?? []), a.id]);
  }
  for (const a of actions) {
    for (const t of dependents.get(a.service) ?? []) a.after.push(...(removals.get(t) ?? []));
    a.after.sort();
  }
  if (orphans.length) {
    if (options.removeOrphans) {
      for (const c of orphans) {
        actions.push({
          id: `remove-orphan:${nameOf(c)}`,
          kind: 'remove-orphan',
          service: c.service,
          container: nameOf(c),
          containerId: c.id,
          number: c.number,
          reason: `service "${c.service}" is not in the project`,
          after: [],
        });
      }
    } else {
      warnings.push(
        `orphan containers found: ${orphans.map(nameOf).join(', ')} (services ${[...new Set(orphans.map((c) => c.service))].join(', ')} not in the project); run with --remove-orphans to remove them`,
      );
    }
  }
  // natural order: dependents first (reverse dependency order), then orphans
  const order = dependencyOrder(graph).reverse();
  const rank = new Map(order.map((s, i) => [s, i]));
  const natural = [...actions].sort((a, b) => (rank.get(a.service) ?? order.length) - (rank.get(b.service) ?? order.length));
  return new Plan(desired.project, orderActions(natural), warnings);
}
