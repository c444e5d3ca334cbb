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
import { assertAcyclic, dependencyOrder, withDependencies, type DependencyGraph } from './graph.js';
import { configHash, diffDefinitions } from './hash.js';
import { orderActions, Plan } from './plan.js';
import type { ActionKind, DesiredProject, DesiredService, ObservedContainer, PlanAction, PlanOptions } from './types.js';

type Policy = 'diverged' | 'force' | 'never';

/** Actions that leave a container up (or deliberately as it is): dependents wait on these. */
const UP_KINDS: ReadonlySet<ActionKind> = new Set<ActionKind>(['create', 'recreate', 'start', 'unpause', 'noop']);

function nameOf(c: ObservedContainer): string {
  return c.name ?? c.id;
}

/** Compose's default container name: `<project>-<service>-<number>`. */
export function containerNameFor(project: string, service: DesiredService, number: number): string {
  return service.containerName ?? `${project}-${service.name}-${number}`;
}

export function shortDigest(d: string): string {
  const m = /^([a-z0-9]+):([0-9a-f]+)$/.exec(d);
  return m ? `${m[1]}:${m[2]!.slice(0, 12)}` : d;
}

function listFields(fields: string[]): string {
  if (fields.length <= 4) return fields.join(', ');
  return `${fields.slice(0, 4).join(', ')} and ${fields.length - 4} more`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface Divergence {
  reason: string;
  changedFields?: string[];
}

/** Why a container no longer matches its service, or undefined when it matches. */
export function divergence(service: DesiredService, desiredHash: string, c: ObservedContainer): Divergence | undefined {
  const reasons: string[] = [];
  let changedFields: string[] | undefined;
  if (c.configHash !== desiredHash) {
    if (c.definition === undefined) {
      reasons.push('configuration changed (no recorded definition to compare)');
    } else {
      // A different hash over the same definition is drift (a hash or normal form from another
      // tscompose version), not a change: compare the definitions themselves.
      const fields = diffDefinitions(c.definition, service.definition, { tolerateNewEmptyFields: true });
      if (fields.length) {
        changedFields = fields;
        reasons.push(`${listFields(fields)} changed`);
      }
    }
  }
  if (service.imageDigest && c.imageDigest && service.imageDigest !== c.imageDigest) {
    reasons.push(`image changed from ${shortDigest(c.imageDigest)} to ${shortDigest(service.imageDigest)}`);
  }
  for (const kind of ['network', 'volume'] as const) {
    const want = kind === 'network' ? service.networks : service.volumes;
    const have = kind === 'network' ? c.networks : c.volumes;
    if (!want || !have) continue;
    for (const key of Object.keys(want).sort()) {
      if (!(key in have)) reasons.push(`not attached to ${kind} "${key}"`);
      else if (have[key] !== want[key]) reasons.push(`${kind} "${key}" was recreated`);
    }
  }
  if (reasons.length === 0) return undefined;
  return { reason: reasons.join('; '), changedFields };
}

function unknownService(name: string, services: Map<string, DesiredService>, disabled: Set<string>, what: string): TscError {
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
 * Services whose containers this definition uses directly: `network_mode`, `ipc` and `pid` of the
 * form `service:NAME`, and `volumes_from` entries naming a service. As [field, service] pairs.
 */
export function sharedResourceRefs(definition: unknown): [string, string][] {
  if (typeof definition !== 'object' || definition === null || Array.isArray(definition)) return [];
  const def = definition as Record<string, unknown>;
  const out: [string, string][] = [];
  for (const field of ['network_mode', 'ipc', 'pid']) {
    const v = def[field];
    if (typeof v === 'string' && v.startsWith('service:') && v.length > 8) out.push([field, v.slice(8)]);
  }
  if (Array.isArray(def.volumes_from)) {
    for (const v of def.volumes_from) {
      if (typeof v !== 'string' || v.startsWith('container:')) continue;
      const name = v.split(':')[0];
      if (name) out.push(['volumes_from', name]);
    }
  }
  return out;
}

/**
 * The dependency graph: depends_on only. The loader already added the dependencies Compose
 * implies (links, `service:X` namespaces, volumes_from) to depends_on; they are not added here
 * a second time.
 */
function buildGraph(desired: DesiredProject): DependencyGraph {
  const graph: DependencyGraph = new Map();
  for (const s of [...desired.services].sort((a, b) => cmp(a.name, b.name))) {
    graph.set(s.name, Object.keys(s.dependsOn).sort());
  }
  return graph;
}

function checkServices(desired: DesiredProject): Map<string, DesiredService> {
  const services = new Map<string, DesiredService>();
  for (const s of desired.services) {
    if (services.has(s.name)) throw new TscError('PLAN', `service "${s.name}" is given twice to the planner`);
    services.set(s.name, s);
  }
  return services;
}

/** Plans `up` (and `create`): see the module comment for the rules. Pure and deterministic. */
export function plan(desired: DesiredProject, observed: readonly ObservedContainer[], options: PlanOptions = {}): Plan {
  const project = desired.project;
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
  // dependencies that are not in the model: an error when required (unless --no-deps), else ignored
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
  assertAcyclic(graph);
  const order = dependencyOrder(graph);

  const policyFor = (name: string): { policy: Policy; why?: string } => {
    if (options.noRecreate) return { policy: 'never' };
    const isNamed = !named || named.includes(name);
    if (isNamed) return options.forceRecreate ? { policy: 'force', why: 'recreate forced (--force-recreate)' } : { policy: 'diverged' };
    return options.alwaysRecreateDeps ? { policy: 'force', why: 'recreate forced (--always-recreate-deps)' } : { policy: 'diverged' };
  };

  // observed containers: per service, and orphans
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

  const actions: PlanAction[] = [];
  const warnings: string[] = [];
  const usedIds = new Set<string>();
  const add = (a: Omit<PlanAction, 'id' | 'after'> & { after?: string[] }): PlanAction => {
    let id = `${a.kind}:${a.container}`;
    for (let i = 2; usedIds.has(id); i++) id = `${a.kind}:${a.container}#${i}`;
    usedIds.add(id);
    const action: PlanAction = { ...a, id, after: a.after ?? [] };
    actions.push(action);
    return action;
  };

  // orphans first: a new container may reuse an orphan's name
  const orphanRemovals = new Map<string, string>();
  if (orphans.length) {
    if (options.removeOrphans) {
      for (const c of orphans) {
        const reason = c.oneOff ? `one-off container of "${c.service}", ${c.state}` : `service "${c.service}" is not in the project`;
        const a = add({ kind: 'remove-orphan', service: c.service, container: nameOf(c), containerId: c.id, number: c.number, reason });
        orphanRemovals.set(nameOf(c), a.id);
      }
    } else {
      const names = orphans.map(nameOf).join(', ');
      const svcs = [...new Set(orphans.filter((c) => !c.oneOff).map((c) => c.service))];
      const about = svcs.length ? ` (service${svcs.length === 1 ? '' : 's'} ${svcs.join(', ')} not in the project)` : ' (exited one-off containers)';
      warnings.push(`orphan containers found: ${names}${about}; run with --remove-orphans to remove them`);
    }
  }

  const noopByContainer = new Map<string, PlanAction>();
  const recreated = new Set<string>();
  /** services whose containers are replaced by new ones in this plan (recreated, or created where none was kept) */
  const renewed = new Set<string>();
  const recreateActions = new Map<string, PlanAction[]>();

  for (const name of order) {
    if (!selected.has(name)) continue;
    const svc = services.get(name)!;
    const { policy, why } = policyFor(name);
    const wanted = options.scale?.[name] ?? svc.replicas;
    if (!Number.isInteger(wanted) || wanted < 0) {
      throw new TscError('PLAN', `service "${name}" asks for ${wanted} replicas: the number must be a whole number, 0 or more`);
    }
    if (svc.containerName && wanted > 1) {
      throw new TscError(
        'PLAN',
        `service "${name}" sets container_name "${svc.containerName}" and cannot run ${wanted} replicas: container names must be unique`,
        {
          hint: 'remove container_name to scale the service',
        },
      );
    }
    const desiredHash = configHash(svc.definition);
    const existing = byService.get(name) ?? [];
    // a container sharing the namespace or volumes of a container that is replaced must follow it
    const sharedReason = sharedResourceRefs(svc.definition)
      .filter(([, ref]) => renewed.has(ref))
      .map(([field, ref]) => `${field}: service ${ref} is recreated`)
      .join('; ');
    const evals = existing.map((c) => {
      const div = divergence(svc, desiredHash, c);
      if (!sharedReason) return { c, div };
      return { c, div: div ? { reason: `${div.reason}; ${sharedReason}`, changedFields: div.changedFields } : { reason: sharedReason } };
    });
    const outdated = (e: (typeof evals)[number]): boolean => e.c.state === 'dead' || policy === 'force' || (policy === 'diverged' && e.div !== undefined);

    // which replicas to keep: up-to-date ones first, then the lowest numbers
    const ranked = [...evals].sort((a, b) => Number(outdated(a)) - Number(outdated(b)) || a.c.number - b.c.number || cmp(a.c.id, b.c.id));
    const seen = new Set<number>();
    const unique: typeof evals = [];
    for (const e of ranked) {
      if (seen.has(e.c.number)) {
        add({
          kind: 'remove',
          service: name,
          container: nameOf(e.c),
          containerId: e.c.id,
          number: e.c.number,
          reason: `duplicate replica number ${e.c.number}`,
        });
        continue;
      }
      seen.add(e.c.number);
      unique.push(e);
    }
    const keep = unique.slice(0, wanted);
    const drop = unique.slice(wanted).sort((a, b) => b.c.number - a.c.number);
    for (const e of drop) {
      add({ kind: 'scale-down', service: name, container: nameOf(e.c), containerId: e.c.id, number: e.c.number, reason: `scale ${unique.length} → ${wanted}` });
    }

    for (const { c, div } of keep.sort((a, b) => a.c.number - b.c.number)) {
      const target = containerNameFor(project, svc, c.number);
      const renamed = target !== nameOf(c) ? ` (was ${nameOf(c)})` : '';
      const recreate = (reason: string, changedFields?: string[]): void => {
        const orphanRemoval = renamed ? orphanRemovals.get(target) : undefined;
        const a = add({
          kind: 'recreate',
          service: name,
          container: target,
          containerId: c.id,
          number: c.number,
          reason: reason + renamed,
          changedFields,
          start: !options.noStart,
          configHash: desiredHash,
          after: orphanRemoval ? [orphanRemoval] : [],
        });
        recreated.add(name);
        recreateActions.set(name, [...(recreateActions.get(name) ?? []), a]);
      };
      if (c.state === 'dead') {
        recreate('dead, recreate');
        continue;
      }
      if (policy === 'force') {
        recreate(why!, div?.changedFields);
        continue;
      }
      if (policy === 'diverged' && div) {
        recreate(div.reason, div.changedFields);
        continue;
      }
      if (div) warnings.push(`${nameOf(c)} differs from the configuration (${div.reason}) but --no-recreate keeps it`);
      const base = { service: name, container: nameOf(c), containerId: c.id, number: c.number };
      const exited = `exited${c.exitCode === undefined ? '' : ` (${c.exitCode})`}`;
      let a: PlanAction;
      switch (c.state) {
        case 'running':
          a = add({ ...base, kind: 'noop', reason: div ? 'running (--no-recreate)' : 'running, up to date' });
          noopByContainer.set(c.id, a);
          break;
        case 'restarting':
          add({ ...base, kind: 'noop', reason: 'restarting (restart policy)' });
          break;
        case 'paused':
          add(options.noStart ? { ...base, kind: 'noop', reason: 'paused (--no-start)' } : { ...base, kind: 'unpause', reason: 'paused, unpause' });
          break;
        case 'created':
          add(options.noStart ? { ...base, kind: 'noop', reason: 'created, not started (--no-start)' } : { ...base, kind: 'start', reason: 'created, start' });
          break;
        case 'exited':
          add(
            options.noStart ? { ...base, kind: 'noop', reason: `${exited}, not started (--no-start)` } : { ...base, kind: 'start', reason: `${exited}, start` },
          );
          break;
        default:
          throw new TscError('INTERNAL', `container ${nameOf(c)} of service "${name}" is in an unknown state "${String(c.state)}"`);
      }
    }

    if (recreated.has(name) || (keep.length === 0 && wanted > 0)) renewed.add(name);

    // scale up: fill the lowest numbers no container of the service uses
    const used = new Set(existing.map((c) => c.number));
    let next = 1;
    for (let i = keep.length; i < wanted; i++) {
      while (used.has(next)) next++;
      used.add(next);
      const container = containerNameFor(project, svc, next);
      const reason = keep.length === 0 && i === 0 && wanted === 1 ? 'new container' : `scale ${keep.length} → ${wanted}`;
      const orphanRemoval = orphanRemovals.get(container);
      add({
        kind: 'create',
        service: name,
        container,
        number: next,
        reason,
        start: !options.noStart,
        configHash: desiredHash,
        after: orphanRemoval ? [orphanRemoval] : [],
      });
    }
  }

  // depends_on.restart: stop running dependents before a dependency is recreated, start them after
  for (const t of [...services.values()].sort((a, b) => cmp(a.name, b.name))) {
    const causes = Object.entries(t.dependsOn)
      .filter(([dep, spec]) => spec.restart && recreated.has(dep))
      .map(([dep]) => dep)
      .sort();
    if (causes.length === 0) continue;
    const containers = (byService.get(t.name) ?? []).filter((c) => c.state === 'running');
    for (const c of containers) {
      const handledBySelection = selected.has(t.name);
      const noop = noopByContainer.get(c.id);
      if (handledBySelection && !noop) continue; // recreated, removed or otherwise acted on already
      const list = causes.join(', ');
      const base = { service: t.name, container: nameOf(c), containerId: c.id, number: c.number };
      const stop = add({ ...base, kind: 'stop', reason: `dependency ${list} is recreated (depends_on.restart)` });
      for (const cause of causes) for (const r of recreateActions.get(cause) ?? []) r.after.push(stop.id);
      if (!options.noStart) add({ ...base, kind: 'start', reason: `restart after ${list} is recreated`, after: [stop.id] });
      if (noop) {
        // the stop and start take the place of the noop in the listing
        const added = actions.splice(actions.length - (options.noStart ? 1 : 2));
        const at = actions.indexOf(noop);
        actions.splice(at, 1, ...added);
        usedIds.delete(noop.id);
      }
    }
  }

  // a service's up-actions wait on the up-actions of its dependencies
  const upIds = new Map<string, string[]>();
  for (const a of actions) if (UP_KINDS.has(a.kind)) upIds.set(a.service, [...(upIds.get(a.service) ?? []), a.id]);
  for (const a of actions) {
    if (!UP_KINDS.has(a.kind)) continue;
    for (const dep of graph.get(a.service) ?? []) for (const id of upIds.get(dep) ?? []) if (!a.after.includes(id)) a.after.push(id);
  }
  for (const a of actions) a.after.sort();

  return new Plan(project, orderActions(actions), warnings);
}

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
