/**
 * Property test: for many random projects, recorded states and options, applying the plan
 * (simulated) and planning again with the same inputs gives a plan with nothing to do, and
 * every plan is well formed (edges point backwards, ids unique, replica numbers unique).
 */
import { describe, expect, it } from 'vitest';
import { withDependencies } from '../../../src/planner/graph.js';
import { configHash, plan } from '../../../src/planner/index.js';
import type { ContainerState, DesiredProject, DesiredService, ObservedContainer, PlanOptions } from '../../../src/planner/types.js';

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STATES: ContainerState[] = ['created', 'running', 'restarting', 'paused', 'exited', 'dead'];
const DIGESTS = [`sha256:${'1'.repeat(64)}`, `sha256:${'2'.repeat(64)}`];

interface Case {
  desired: DesiredProject;
  observed: ObservedContainer[];
  options: PlanOptions;
}

function randomCase(seed: number): Case {
  const r = prng(seed);
  const int = (n: number): number => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const n = 1 + int(5);
  const services: DesiredService[] = [];
  for (let i = 0; i < n; i++) {
    const name = `s${i}`;
    const dependsOn: DesiredService['dependsOn'] = {};
    for (let j = 0; j < i; j++)
      if (r() < 0.35)
        dependsOn[`s${j}`] = {
          condition: pick(['service_started', 'service_healthy', 'service_completed_successfully'] as const),
          restart: r() < 0.5,
          required: true,
        };
    const fixedName = r() < 0.15;
    services.push({
      name,
      replicas: fixedName ? int(2) : int(4),
      dependsOn,
      definition: {
        image: 'busybox',
        environment: { V: String(int(2)) },
        ...(fixedName ? { container_name: `fixed-${name}` } : {}),
        ...(i > 0 && r() < 0.2 ? { network_mode: `service:s${int(i)}` } : {}),
      },
      image: 'busybox',
      imageDigest: pick(DIGESTS),
      containerName: fixedName ? `fixed-${name}` : undefined,
    });
  }
  const observed: ObservedContainer[] = [];
  let serial = 0;
  for (const s of services) {
    const count = int(5);
    for (let k = 0; k < count; k++) {
      const number = 1 + int(5);
      const def = r() < 0.6 ? s.definition : { image: 'busybox', environment: { V: 'old' } };
      // the engine refuses two containers with one name: a duplicate number got another name
      let name = s.containerName && r() < 0.5 ? s.containerName : `p-${s.name}-${number}`;
      if (observed.some((o) => o.name === name)) name = `${name}-dup${serial}`;
      observed.push({
        id: `c${serial++}`,
        name,
        service: s.name,
        number,
        oneOff: r() < 0.1,
        configHash: configHash(def),
        definition: def,
        imageDigest: pick(DIGESTS),
        state: pick(STATES),
        exitCode: 0,
      });
    }
  }
  if (r() < 0.3) observed.push({ id: `c${serial}`, name: 'p-gone-1', service: 'gone', number: 1, oneOff: false, configHash: 'x', state: pick(STATES) });
  const options: PlanOptions = {};
  if (r() < 0.3) options.services = services.filter(() => r() < 0.5).map((s) => s.name);
  if (r() < 0.2) options.noDeps = true;
  if (r() < 0.3) options.removeOrphans = true;
  if (r() < 0.15) options.noRecreate = true;
  // eslint-disable-next-line no-dupe-else-if -- r() draws a new number each call
  else if (r() < 0.15) options.forceRecreate = true;
  if (r() < 0.15) options.noStart = true;
  if (r() < 0.1) options.alwaysRecreateDeps = true;
  if (r() < 0.2) options.scale = { [pick(services).name]: int(3) };
  for (const s of services) if (s.containerName && (options.scale?.[s.name] ?? s.replicas) > 1) options.scale = { ...options.scale, [s.name]: 1 };
  return { desired: { project: 'p', services }, observed, options };
}

/** What the apply layer would leave behind after running the plan. */
function simulate(c: Case, p: ReturnType<typeof plan>): ObservedContainer[] {
  const byId = new Map(c.observed.map((o) => [o.id, { ...o }]));
  const services = new Map(c.desired.services.map((s) => [s.name, s]));
  let serial = 0;
  for (const a of p.actions) {
    const svc = services.get(a.service);
    switch (a.kind) {
      case 'create':
      case 'recreate': {
        if (a.containerId) byId.delete(a.containerId);
        const id = `new${serial++}`;
        byId.set(id, {
          id,
          name: a.container,
          service: a.service,
          number: a.number!,
          oneOff: false,
          configHash: a.configHash!,
          definition: svc!.definition,
          imageDigest: svc!.imageDigest,
          state: a.start ? 'running' : 'created',
        });
        break;
      }
      case 'start':
      case 'unpause':
        byId.get(a.containerId!)!.state = 'running';
        break;
      case 'stop':
        byId.get(a.containerId!)!.state = 'exited';
        break;
      case 'remove':
      case 'scale-down':
      case 'remove-orphan':
        byId.delete(a.containerId!);
        break;
      case 'noop':
        break;
    }
  }
  return [...byId.values()];
}

function checkWellFormed(p: ReturnType<typeof plan>): void {
  const seen = new Set<string>();
  for (const a of p.actions) {
    for (const d of a.after) if (!seen.has(d)) throw new Error(`${a.id} waits on ${d}, listed later or missing\n${p.toString()}`);
    if (seen.has(a.id)) throw new Error(`${a.id} listed twice`);
    seen.add(a.id);
  }
}

describe('convergence (property)', () => {
  it('applying a plan then planning again leaves nothing to do', () => {
    let plansWithChanges = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const c = randomCase(seed);
      let first: ReturnType<typeof plan>;
      try {
        first = plan(c.desired, c.observed, c.options);
      } catch (e) {
        throw new Error(`seed ${seed}: ${(e as Error).message}`, { cause: e });
      }
      checkWellFormed(first);
      if (seed % 4 === 0) {
        const reversed = plan({ ...c.desired, services: [...c.desired.services].reverse() }, [...c.observed].reverse(), c.options);
        if (reversed.toString() !== first.toString()) throw new Error(`seed ${seed}: the plan depends on the order of its inputs`);
      }
      if (!first.isEmpty) plansWithChanges++;
      const after = simulate(c, first);
      const again = plan(c.desired, after, { ...c.options, forceRecreate: false, alwaysRecreateDeps: false });
      if (!again.isEmpty) throw new Error(`seed ${seed}: not converged\n${first.toString()}\n---\n${again.toString()}`);
      // replicas of the services acted on: the wanted count, unique numbers and names
      const graph = new Map(c.desired.services.map((s) => [s.name, Object.keys(s.dependsOn)]));
      const named = c.options.services?.length ? c.options.services : undefined;
      const selected = named ? (c.options.noDeps ? new Set(named) : withDependencies(graph, named)) : new Set(graph.keys());
      for (const s of c.desired.services) {
        if (!selected.has(s.name)) continue;
        const mine = after.filter((o) => o.service === s.name && !o.oneOff);
        if (mine.length !== (c.options.scale?.[s.name] ?? s.replicas)) throw new Error(`seed ${seed}: service ${s.name} has ${mine.length} replicas`);
        if (new Set(mine.map((o) => o.number)).size !== mine.length) throw new Error(`seed ${seed}: service ${s.name} reuses a replica number`);
      }
      const names = after.filter((o) => !o.oneOff).map((o) => o.name ?? o.id);
      if (new Set(names).size !== names.length) throw new Error(`seed ${seed}: duplicate names ${names.join(',')}`);
    }
    expect(plansWithChanges).toBeGreaterThan(200);
  });
});
