/**
 * The planner: a pure function from the desired project, the observed containers and the
 * command-line options to a Plan. It follows Docker Compose's convergence rules
 * (pkg/compose/convergence.go) and says why for every action:
 *
 * - A container is recreated only when its recorded config hash differs from the desired one,
 *   or its image id differs from the resolved one (or --force-recreate, or it is dead). The
 *   reason names the changed definition paths. A hash that differs while the recorded
 *   definition is the same (a field a newer version added with an empty value, or another
 *   hash format) is drift, not a change: no recreate.
 * - --no-recreate keeps diverged containers (with a warning naming what differs);
 *   --force-recreate applies to the named services, --always-recreate-deps to their dependencies.
 * - Replicas are numbered from 1. Scaling down removes out-of-date replicas first, then the
 *   highest numbers; scaling up fills the lowest free numbers.
 * - Stopped containers of an unchanged service are started; running ones are left alone.
 * - When a service is recreated, running dependents whose depends_on entry has `restart: true`
 *   are stopped before the recreate and started after it.
 * - A service using another's containers (network_mode/ipc/pid `service:X`, volumes_from X)
 *   is recreated when X's containers are replaced (Compose resolves these to container ids
 *   before hashing, so its hash changes then too). That it depends on X is in its depends_on:
 *   the loader adds these implied entries, the planner reads depends_on only.
 * - Containers of services no longer in the project (and exited one-off containers) are orphans:
 *   removed with --remove-orphans, otherwise named in a warning.
 * - Actions of a service wait (`after`) on the up-actions of its dependencies; independent
 *   services have no edges between them and may run in parallel.
 */
import { TscError } from '../common/errors.js';
import { PlanDraft, type PlanInputs } from './draft.js';
import { assertAcyclic, dependencyOrder, withDependencies, type DependencyGraph } from './graph.js';
import { orderActions, Plan } from './plan.js';
import { planService } from './replicas.js';
import { buildGraph, checkServices, cmp, nameOf, unknownService } from './services.js';
import type { ActionKind, DesiredProject, ObservedContainer, PlanAction, PlanOptions } from './types.js';

/** Actions that leave a container up (or deliberately as it is): dependents wait on these. */
const UP_KINDS: ReadonlySet<ActionKind> = new Set<ActionKind>(['create', 'recreate', 'start', 'unpause', 'noop']);

/**
 * Plans `up` (and `create`): see the module comment for the rules. Pure and deterministic.
 * Each step below reads the checked inputs and adds to the draft, in this order.
 */
export function plan(desired: DesiredProject, observed: readonly ObservedContainer[], options: PlanOptions = {}): Plan {
  const inputs = readInputs(desired, observed, options);
  const draft = new PlanDraft();
  planOrphans(inputs, draft);
  for (const name of inputs.order) if (inputs.selected.has(name)) planService(inputs, draft, inputs.services.get(name)!);
  planDependentRestarts(inputs, draft);
  addDependencyEdges(inputs.graph, draft.actions);
  return new Plan(inputs.project, orderActions(draft.actions), draft.warnings);
}

/** Checks the options against the project, selects the services and sorts the observed containers. */
function readInputs(desired: DesiredProject, observed: readonly ObservedContainer[], options: PlanOptions): PlanInputs {
  const services = checkServices(desired);
  const disabled = new Set(desired.disabledServices ?? []);
  if (options.forceRecreate && options.noRecreate) {
    throw new TscError('USAGE', '--force-recreate and --no-recreate cannot be used together');
  }
  const named = options.services?.length ? [...new Set(options.services)] : undefined;
  for (const n of named ?? []) if (!services.has(n)) throw unknownService(n, services, disabled, 'service');
  for (const [n, v] of Object.entries(options.scale ?? {})) {
    if (!services.has(n)) throw unknownService(n, services, disabled, '--scale: service');
    if (!Number.isInteger(v) || v < 0) throw new TscError('USAGE', `--scale ${n}=${v}: the number of replicas must be a whole number, 0 or more`);
  }
  const graph = buildGraph(desired);
  const selected = named ? (options.noDeps ? new Set(named) : withDependencies(graph, named)) : new Set(services.keys());
  checkRequiredDependencies(services, disabled, selected, options);
  assertAcyclic(graph);
  const order = dependencyOrder(graph);
  return { project: desired.project, options, services, disabled, named, graph, selected, order, ...splitObserved(observed, services, disabled) };
}

/** Dependencies that are not in the model: an error when required (unless --no-deps), else ignored. */
function checkRequiredDependencies(services: PlanInputs['services'], disabled: Set<string>, selected: Set<string>, options: PlanOptions): void {
  for (const name of [...selected].sort()) {
    for (const [dep, spec] of Object.entries(services.get(name)!.dependsOn).sort(([a], [b]) => cmp(a, b))) {
      if (services.has(dep) || !spec.required || options.noDeps) continue;
      if (disabled.has(dep)) {
        throw new TscError('SPEC_REFERENCE', `service "${name}" depends on "${dep}", which is disabled by its profiles`, {
          hint: `enable a profile of "${dep}", or mark the dependency \`required: false\``,
        });
      }
      throw new TscError('SPEC_REFERENCE', `service "${name}" depends on undefined service "${dep}"`);
    }
  }
}

/** Observed containers per service, and the orphans (other services' and exited one-off containers). */
function splitObserved(
  observed: readonly ObservedContainer[],
  services: PlanInputs['services'],
  disabled: Set<string>,
): Pick<PlanInputs, 'byService' | 'orphans'> {
  const byService = new Map<string, ObservedContainer[]>();
  const orphans: ObservedContainer[] = [];
  const sortedObserved = [...observed].sort((a, b) => cmp(a.service, b.service) || a.number - b.number || cmp(a.id, b.id));
  for (const c of sortedObserved) {
    if (c.oneOff) {
      if (c.state === 'exited' || c.state === 'dead') orphans.push(c);
      continue;
    }
    if (!services.has(c.service)) {
      if (!disabled.has(c.service)) orphans.push(c);
      continue;
    }
    byService.set(c.service, [...(byService.get(c.service) ?? []), c]);
  }
  return { byService, orphans };
}

/** Orphans first (a new container may reuse an orphan's name): removed with --remove-orphans, else a warning. */
function planOrphans({ orphans, options }: PlanInputs, draft: PlanDraft): void {
  if (!orphans.length) return;
  if (options.removeOrphans) {
    for (const c of orphans) {
      const reason = c.oneOff ? `one-off container of "${c.service}", ${c.state}` : `service "${c.service}" is not in the project`;
      const a = draft.add({ kind: 'remove-orphan', service: c.service, container: nameOf(c), containerId: c.id, number: c.number, reason });
      draft.orphanRemovals.set(nameOf(c), a.id);
    }
  } else {
    const names = orphans.map(nameOf).join(', ');
    const svcs = [...new Set(orphans.filter((c) => !c.oneOff).map((c) => c.service))];
    const about = svcs.length ? ` (service${svcs.length === 1 ? '' : 's'} ${svcs.join(', ')} not in the project)` : ' (exited one-off containers)';
    draft.warnings.push(`orphan containers found: ${names}${about}; run with --remove-orphans to remove them`);
  }
}

/** depends_on.restart: running dependents are stopped before a dependency is recreated and started after it. */
function planDependentRestarts(inputs: PlanInputs, draft: PlanDraft): void {
  const { options } = inputs;
  for (const t of [...inputs.services.values()].sort((a, b) => cmp(a.name, b.name))) {
    const causes = Object.entries(t.dependsOn)
      .filter(([dep, spec]) => spec.restart && draft.recreateActions.has(dep))
      .map(([dep]) => dep)
      .sort();
    if (causes.length === 0) continue;
    const containers = (inputs.byService.get(t.name) ?? []).filter((c) => c.state === 'running');
    for (const c of containers) {
      const handledBySelection = inputs.selected.has(t.name);
      const noop = draft.noopByContainer.get(c.id);
      if (handledBySelection && !noop) continue; // recreated, removed or otherwise acted on already
      const list = causes.join(', ');
      const base = { service: t.name, container: nameOf(c), containerId: c.id, number: c.number };
      const stop = draft.add({ ...base, kind: 'stop', reason: `dependency ${list} is recreated (depends_on.restart)` });
      for (const cause of causes) for (const r of draft.recreateActions.get(cause) ?? []) r.after.push(stop.id);
      if (!options.noStart) draft.add({ ...base, kind: 'start', reason: `restart after ${list} is recreated`, after: [stop.id] });
      // the stop and start take the place of the noop in the listing
      if (noop) draft.replaceWithLast(noop, options.noStart ? 1 : 2);
    }
  }
}

/** A service's up-actions wait on the up-actions of its dependencies. */
function addDependencyEdges(graph: DependencyGraph, actions: PlanAction[]): void {
  const upIds = new Map<string, string[]>();
  for (const a of actions) if (UP_KINDS.has(a.kind)) upIds.set(a.service, [...(upIds.get(a.service) ?? []), a.id]);
  for (const a of actions) {
    if (!UP_KINDS.has(a.kind)) continue;
    for (const dep of graph.get(a.service) ?? []) for (const id of upIds.get(dep) ?? []) if (!a.after.includes(id)) a.after.push(id);
  }
  for (const a of actions) a.after.sort();
}
