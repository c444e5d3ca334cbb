/**
 * One service's step of `plan()`: which of its containers are kept, recreated, started or
 * removed, and which new replicas are created. Each rule is one function below, applied in
 * this order: replica count, divergence (with shared namespaces and volumes), duplicates and
 * scale-down, then per kept replica recreate-or-keep, then scale-up.
 */
import { TscError } from '../common/errors.js';
import { divergence, sharedResourceRefs, type Divergence } from './divergence.js';
import type { PlanDraft, PlanInputs } from './draft.js';
import { configHash } from './hash.js';
import { cmp, containerNameFor, nameOf } from './services.js';
import type { DesiredService, ObservedContainer, PlanAction } from './types.js';

type Policy = 'diverged' | 'force' | 'never';

interface Evaluated {
  c: ObservedContainer;
  div?: Divergence;
}

/** --no-recreate, --force-recreate (named services) and --always-recreate-deps (their dependencies). */
function policyFor(inputs: PlanInputs, name: string): { policy: Policy; why?: string } {
  const { options, named } = inputs;
  if (options.noRecreate) return { policy: 'never' };
  const isNamed = !named || named.includes(name);
  if (isNamed) return options.forceRecreate ? { policy: 'force', why: 'recreate forced (--force-recreate)' } : { policy: 'diverged' };
  return options.alwaysRecreateDeps ? { policy: 'force', why: 'recreate forced (--always-recreate-deps)' } : { policy: 'diverged' };
}

/** The number of replicas wanted (--scale over the model), checked against container_name. */
function replicaCount(inputs: PlanInputs, svc: DesiredService): number {
  const wanted = inputs.options.scale?.[svc.name] ?? svc.replicas;
  if (!Number.isInteger(wanted) || wanted < 0) {
    throw new TscError('PLAN', `service "${svc.name}" asks for ${wanted} replicas: the number must be a whole number, 0 or more`);
  }
  if (svc.containerName && wanted > 1) {
    throw new TscError(
      'PLAN',
      `service "${svc.name}" sets container_name "${svc.containerName}" and cannot run ${wanted} replicas: container names must be unique`,
      {
        hint: 'remove container_name to scale the service',
      },
    );
  }
  return wanted;
}

/**
 * Why each container differs from its service. A container sharing the namespace or volumes
 * of a service whose containers are replaced in this plan must follow it.
 */
function evaluate(draft: PlanDraft, svc: DesiredService, desiredHash: string, existing: ObservedContainer[]): Evaluated[] {
  const sharedReason = sharedResourceRefs(svc.definition)
    .filter(([, ref]) => draft.renewed.has(ref))
    .map(([field, ref]) => `${field}: service ${ref} is recreated`)
    .join('; ');
  return existing.map((c) => {
    const div = divergence(svc, desiredHash, c);
    if (!sharedReason) return { c, div };
    return { c, div: div ? { reason: `${div.reason}; ${sharedReason}`, changedFields: div.changedFields } : { reason: sharedReason } };
  });
}

/**
 * The replicas to keep: up-to-date ones first, then the lowest numbers. A second container with
 * a number already kept is removed; replicas beyond `wanted` are scaled down, highest first.
 */
function keepReplicas(draft: PlanDraft, name: string, evals: Evaluated[], outdated: (e: Evaluated) => boolean, wanted: number): Evaluated[] {
  const ranked = [...evals].sort((a, b) => Number(outdated(a)) - Number(outdated(b)) || a.c.number - b.c.number || cmp(a.c.id, b.c.id));
  const seen = new Set<number>();
  const unique: Evaluated[] = [];
  for (const e of ranked) {
    if (seen.has(e.c.number)) {
      draft.add({
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
  const drop = unique.slice(wanted).sort((a, b) => b.c.number - a.c.number);
  for (const e of drop) {
    draft.add({
      kind: 'scale-down',
      service: name,
      container: nameOf(e.c),
      containerId: e.c.id,
      number: e.c.number,
      reason: `scale ${unique.length} → ${wanted}`,
    });
  }
  return unique.slice(0, wanted).sort((a, b) => a.c.number - b.c.number);
}

/** A kept container that is not recreated: started, unpaused or left as it is, by its state. */
function keepAsItIs(inputs: PlanInputs, draft: PlanDraft, name: string, { c, div }: Evaluated): void {
  const noStart = inputs.options.noStart;
  if (div) draft.warnings.push(`${nameOf(c)} differs from the configuration (${div.reason}) but --no-recreate keeps it`);
  const base = { service: name, container: nameOf(c), containerId: c.id, number: c.number };
  const exited = `exited${c.exitCode === undefined ? '' : ` (${c.exitCode})`}`;
  switch (c.state) {
    case 'running':
      draft.noopByContainer.set(c.id, draft.add({ ...base, kind: 'noop', reason: div ? 'running (--no-recreate)' : 'running, up to date' }));
      break;
    case 'restarting':
      draft.add({ ...base, kind: 'noop', reason: 'restarting (restart policy)' });
      break;
    case 'paused':
      draft.add(noStart ? { ...base, kind: 'noop', reason: 'paused (--no-start)' } : { ...base, kind: 'unpause', reason: 'paused, unpause' });
      break;
    case 'created':
      draft.add(noStart ? { ...base, kind: 'noop', reason: 'created, not started (--no-start)' } : { ...base, kind: 'start', reason: 'created, start' });
      break;
    case 'exited':
      draft.add(noStart ? { ...base, kind: 'noop', reason: `${exited}, not started (--no-start)` } : { ...base, kind: 'start', reason: `${exited}, start` });
      break;
    default:
      throw new TscError('INTERNAL', `container ${nameOf(c)} of service "${name}" is in an unknown state "${String(c.state)}"`);
  }
}

/** Recreates a kept container (under its target name, after the removal of an orphan holding that name). */
function recreate(
  inputs: PlanInputs,
  draft: PlanDraft,
  svc: DesiredService,
  desiredHash: string,
  c: ObservedContainer,
  reason: string,
  changedFields?: string[],
): void {
  const target = containerNameFor(inputs.project, svc, c.number);
  const renamed = target !== nameOf(c) ? ` (was ${nameOf(c)})` : '';
  const orphanRemoval = renamed ? draft.orphanRemovals.get(target) : undefined;
  const a: PlanAction = draft.add({
    kind: 'recreate',
    service: svc.name,
    container: target,
    containerId: c.id,
    number: c.number,
    reason: reason + renamed,
    changedFields,
    start: !inputs.options.noStart,
    configHash: desiredHash,
    after: orphanRemoval ? [orphanRemoval] : [],
  });
  draft.recreateActions.set(svc.name, [...(draft.recreateActions.get(svc.name) ?? []), a]);
}

/** Scale up: new replicas on the lowest numbers no container of the service uses. */
function scaleUp(
  inputs: PlanInputs,
  draft: PlanDraft,
  svc: DesiredService,
  desiredHash: string,
  existing: ObservedContainer[],
  kept: number,
  wanted: number,
): void {
  const used = new Set(existing.map((c) => c.number));
  let next = 1;
  for (let i = kept; i < wanted; i++) {
    while (used.has(next)) next++;
    used.add(next);
    const container = containerNameFor(inputs.project, svc, next);
    const reason = kept === 0 && i === 0 && wanted === 1 ? 'new container' : `scale ${kept} → ${wanted}`;
    const orphanRemoval = draft.orphanRemovals.get(container);
    draft.add({
      kind: 'create',
      service: svc.name,
      container,
      number: next,
      reason,
      start: !inputs.options.noStart,
      configHash: desiredHash,
      after: orphanRemoval ? [orphanRemoval] : [],
    });
  }
}

/** The actions of one selected service (its dependencies were planned before it). */
export function planService(inputs: PlanInputs, draft: PlanDraft, svc: DesiredService): void {
  const name = svc.name;
  const { policy, why } = policyFor(inputs, name);
  const wanted = replicaCount(inputs, svc);
  const desiredHash = configHash(svc.definition);
  const existing = inputs.byService.get(name) ?? [];
  const evals = evaluate(draft, svc, desiredHash, existing);
  const outdated = (e: Evaluated): boolean => e.c.state === 'dead' || policy === 'force' || (policy === 'diverged' && e.div !== undefined);
  const keep = keepReplicas(draft, name, evals, outdated, wanted);

  for (const e of keep) {
    const { c, div } = e;
    if (c.state === 'dead') recreate(inputs, draft, svc, desiredHash, c, 'dead, recreate');
    else if (policy === 'force') recreate(inputs, draft, svc, desiredHash, c, why!, div?.changedFields);
    else if (policy === 'diverged' && div) recreate(inputs, draft, svc, desiredHash, c, div.reason, div.changedFields);
    else keepAsItIs(inputs, draft, name, e);
  }

  if (draft.recreateActions.has(name) || (keep.length === 0 && wanted > 0)) draft.renewed.add(name);
  scaleUp(inputs, draft, svc, desiredHash, existing, keep.length, wanted);
}
