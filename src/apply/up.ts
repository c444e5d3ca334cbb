/**
 * `up`: pull what is missing, plan, then execute the plan's operations as parallel as its
 * dependency edges allow, waiting on depends_on conditions before a dependent starts. The
 * executor decides nothing: every choice is in the plan.
 */
import { TscError } from '../common/errors.js';
import { SupervisorStillRunning } from '../supervisor/index.js';
import type { ImageRecord } from '../images/index.js';
import { plan as makePlan, planDown, runPlan, type DesiredProject, type DesiredService, type Plan, type PlanAction } from '../planner/index.js';
import type { Project, Service } from '../compose/index.js';
import type { ContainerRecord } from '../state/index.js';
import { checkPorts } from './ports-check.js';
import type { Progress, UpOptions } from './options.js';
import { serviceImageRef } from './service-image.js';
import type { ProjectRuntime } from './runtime.js';
import { anonymousVolumesByLabel } from './volumes.js';
import { waitForContainers, waitForDependencies } from './wait.js';

export { waitForDependencies };
export { imagesToPull, pullImages, type PullImagesOptions } from './pull.js';

export { silentProgress, type Progress, type PullPolicy, type UpOptions } from './options.js';

/** The planner's view of the project's services. */
export function desiredProject(project: Project, images: (s: Service) => ImageRecord | undefined): DesiredProject {
  const services: DesiredService[] = Object.values(project.services).map((s) => ({
    name: s.name,
    replicas: s.deploy?.replicas ?? 1,
    dependsOn: s.depends_on,
    definition: s,
    image: serviceImageRef(s, project.name),
    imageDigest: images(s)?.id,
    containerName: s.container_name,
    pullPolicy: s.pull_policy,
    profiles: s.profiles,
  }));
  return { project: project.name, services, disabledServices: Object.keys(project.disabledServices) };
}

/** Services in scope: the named ones plus their dependencies (unless noDeps), else all. */
export function servicesInScope(project: Project, names: string[] | undefined, noDeps = false): Service[] {
  if (!names || names.length === 0) return Object.values(project.services);
  const out = new Map<string, Service>();
  const visit = (n: string): void => {
    if (out.has(n)) return;
    const s = project.services[n];
    if (!s) {
      const disabled = project.disabledServices[n];
      if (disabled) {
        out.set(n, disabled);
        return;
      }
      throw new TscError('NO_SUCH_SERVICE', `no such service: ${n}`, {
        hint: `services of project ${project.name}: ${Object.keys(project.services).join(', ')}`,
      });
    }
    out.set(n, s);
    if (!noDeps) for (const d of Object.keys(s.depends_on)) if (project.services[d]) visit(d);
  };
  for (const n of names) visit(n);
  return [...out.values()];
}

/**
 * Refuses services managed by an external provider (Compose's `provider:`): tscompose has no
 * provider plugins, so it cannot create them. Called before anything is pulled or changed.
 */
export function refuseProviderServices(services: Service[], verb: string): void {
  const s = services.find((x) => x.provider !== undefined);
  if (!s) return;
  throw new TscError(
    'SPEC_UNSUPPORTED',
    `service "${s.name}" is managed by the external provider "${s.provider!.type}" (provider: in the compose file), and tscompose cannot run provider services: ${verb} stopped before changing anything`,
    {
      hint:
        verb === 'run'
          ? `if the service does not need "${s.name}" running, use \`run --no-deps\``
          : `name the other services on the command line (\`tscompose ${verb} SERVICE...\`), or put "${s.name}" behind a profile`,
    },
  );
}

/** Plans `up` against what is recorded and running now. Refuses provider services in scope. */
export async function planUp(rt: ProjectRuntime, opts: UpOptions): Promise<Plan> {
  refuseProviderServices(servicesInScope(rt.project, opts.services, opts.noDeps), 'up');
  const observed = await rt.observe();
  const desired = desiredProject(rt.project, (s) => rt.localImage(s));
  return makePlan(desired, observed, opts);
}

/** Applies an `up` plan. Throws the first failure (after stopping new work), with context. */
export async function applyUp(rt: ProjectRuntime, plan: Plan, opts: UpOptions, progress: Progress): Promise<void> {
  for (const w of plan.warnings) progress.warn(w);
  rt.checkNetworks();
  rt.reassertFirewall();
  await checkPorts(rt, plan);
  // The supervisor (a Node process) boots while the networks and containers are prepared: its
  // first request is the first container start.
  if (plan.actions.some((a) => (a.kind === 'create' || a.kind === 'recreate' || a.kind === 'start') && a.start !== false)) {
    void rt.supervisor().catch(() => undefined); // a failure resurfaces at the first start
  }
  const failures: unknown[] = [];
  const result = await runPlan(plan, (a) => executeAction(rt, a, opts, progress), {
    onStart: (a) => progress.begin(a.id, titleOf(a)),
    onDone: (a) => progress.done(a.id, doneText(a)),
    onError: (a, err) => {
      failures.push(err);
      progress.fail(a.id, err instanceof Error ? err.message : String(err));
    },
    onSkip: (a, why) => progress.skip(a.id, why),
  });
  if (!result.ok && failures.length) throw failures[0];
  if (opts.wait) {
    const names = new Set(servicesInScope(rt.project, opts.services, opts.noDeps).map((s) => s.name));
    const scope = Object.values(rt.state.containers).filter((c) => names.has(c.service) && !c.oneOff);
    await waitForContainers(rt, scope, opts.waitTimeoutMs ?? 600_000, progress);
  }
}

function titleOf(a: PlanAction): string {
  return `Container ${a.container}`;
}

function doneText(a: PlanAction): string {
  switch (a.kind) {
    case 'create':
    case 'recreate':
      return a.start === false ? (a.kind === 'create' ? 'Created' : 'Recreated') : 'Started';
    case 'start':
      return 'Started';
    case 'stop':
      return 'Stopped';
    case 'remove':
    case 'scale-down':
    case 'remove-orphan':
      return 'Removed';
    case 'unpause':
      return 'Running';
    default:
      return 'Running';
  }
}

async function executeAction(rt: ProjectRuntime, a: PlanAction, opts: UpOptions, progress: Progress): Promise<void> {
  const service = rt.project.services[a.service] ?? rt.project.disabledServices[a.service];
  const record = a.containerId ? rt.state.containers[a.containerId] : undefined;
  switch (a.kind) {
    case 'noop':
      return;
    case 'create': {
      if (!service) throw new TscError('PLAN', `service ${a.service} is not in the project`);
      const start = a.start !== false;
      if (start) await waitForDependencies(rt, service, opts, (t) => progress.update(a.id, t));
      progress.update(a.id, start ? 'Creating' : 'Creating (not started)');
      await rt.createContainer(service, { number: a.number ?? 1, name: a.container, start });
      return;
    }
    case 'recreate': {
      if (!service) throw new TscError('PLAN', `service ${a.service} is not in the project`);
      const start = a.start !== false;
      if (start) await waitForDependencies(rt, service, opts, (t) => progress.update(a.id, t));
      let reuse: Record<string, string> | undefined;
      if (record) {
        progress.update(a.id, 'Recreating');
        reuse = anonymousByTarget(rt, record);
        await rt.removeContainer(record, { timeoutMs: opts.timeoutMs, removeVolumes: false });
      }
      await rt.createContainer(service, { number: a.number ?? record?.number ?? 1, name: a.container, start, reuseAnonymous: reuse });
      return;
    }
    case 'start': {
      if (!record) throw new TscError('PLAN', `container ${a.container} is not recorded`);
      if (service) await waitForDependencies(rt, service, opts, (t) => progress.update(a.id, t));
      progress.update(a.id, 'Starting');
      await rt.startRecorded(record);
      return;
    }
    case 'unpause': {
      if (!record) throw new TscError('PLAN', `container ${a.container} is not recorded`);
      progress.update(a.id, 'Unpausing');
      await (await rt.supervisor()).unpause(record.name);
      return;
    }
    case 'stop': {
      if (!record) return;
      progress.update(a.id, 'Stopping');
      await rt.stopContainer(record, opts.timeoutMs);
      return;
    }
    case 'remove':
    case 'scale-down':
    case 'remove-orphan': {
      if (!record) return;
      progress.update(a.id, 'Removing');
      await rt.removeContainer(record, { timeoutMs: opts.timeoutMs, removeVolumes: false });
      return;
    }
  }
}

/** The anonymous volumes of a container being replaced, by the container path they were mounted on. */
function anonymousByTarget(rt: ProjectRuntime, record: ContainerRecord): Record<string, string> | undefined {
  // from their labels, for when the run config is gone (a kill while removing the container)
  const out: Record<string, string> = anonymousVolumesByLabel(rt.root, record.anonymousVolumes ?? []);
  try {
    const run = rt.runConfig(record);
    const names = new Set(record.anonymousVolumes ?? []);
    for (const m of run.spec.mounts) {
      if (m.type !== 'bind') continue;
      const parts = m.source.split('/');
      const vol = parts[parts.length - 2];
      if (vol && names.has(vol)) out[m.target] = m.source;
    }
  } catch {
    /* no run config: the labels' answer */
  }
  return out;
}

/** `down`: every container (dependents first), then networks; volumes only when asked. */
export async function down(rt: ProjectRuntime, opts: { removeOrphans?: boolean; volumes?: boolean; timeoutMs?: number }, progress: Progress): Promise<void> {
  const observed = await rt.observe();
  const desired = desiredProject(rt.project, () => undefined);
  const plan = planDown(desired, observed, { removeOrphans: opts.removeOrphans });
  for (const w of plan.warnings) progress.warn(w);
  const failures: unknown[] = [];
  await runPlan(
    plan,
    async (a) => {
      const rec = a.containerId ? rt.state.containers[a.containerId] : undefined;
      if (!rec) return;
      progress.update(a.id, 'Stopping');
      await rt.removeContainer(rec, { timeoutMs: opts.timeoutMs, removeVolumes: opts.volumes ?? false });
    },
    {
      continueOnError: true,
      onStart: (a) => progress.begin(a.id, titleOf(a)),
      onDone: (a) => progress.done(a.id, 'Removed'),
      onError: (a, err) => {
        failures.push(err);
        progress.fail(a.id, err instanceof Error ? err.message : String(err));
      },
      onSkip: (a, why) => progress.skip(a.id, why),
    },
  );
  if (failures.length) throw failures[0];
  const orphansLeft = Object.values(rt.state.containers).some((c) => !rt.project.services[c.service] && !rt.project.disabledServices[c.service]);
  if (!orphansLeft) {
    const nets = Object.values(rt.state.networks);
    for (const n of nets) progress.begin(`net:${n.name}`, `Network ${n.name}`);
    await rt.removeNetworks();
    for (const n of nets) progress.done(`net:${n.name}`, 'Removed');
  }
  if (opts.volumes) {
    for (const v of await rt.removeNamedVolumes()) {
      progress.begin(`vol:${v}`, `Volume ${v}`);
      progress.done(`vol:${v}`, 'Removed');
    }
  }
  if (Object.keys(rt.state.containers).length === 0) {
    const sup = await rt.existingSupervisor();
    // a refusal (it owns containers the record does not name) leaves it; once it accepted, down
    // returns only when its process is gone, or says that it is not
    if (sup)
      await sup.shutdown?.().catch((e: unknown) => {
        if (e instanceof SupervisorStillRunning) throw e;
      });
    await rt.forget();
  }
}
