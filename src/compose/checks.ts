/**
 * Cross-reference checks (compose-go's loader/validate.go): depends_on targets exist and form no
 * cycle; the networks and named volumes services use are declared; container_name only with one
 * replica. All are skipped by `--no-consistency` except the cycle check.
 */
import { TscError } from '../common/errors.js';
import { findCycle } from '../common/graph.js';
import { isObj, specError } from './canonical-values.js';
import type { ImpliedDependency } from './implied.js';
import { LIMITS } from './limits.js';
import { hintFor, posText, type LoadContext, type LoadedModel, type Obj, type Path, type ServiceFragment } from './load-context.js';
import { formatPath, nearest } from './position.js';
import type { Network, Service, Volume } from './schema.js';

/** The path of a depends_on entry as written: `depends_on.db` (mapping) or `depends_on[1]` (list). */
function dependsOnPath(from: string, dep: string, frag: ServiceFragment, ld: LoadContext): Path {
  const base: Path = ['services', from, 'depends_on'];
  if (frag.positions.get([...base, dep])) return [...base, dep];
  const raw = ld.cache.get(frag.file)?.data.services;
  const list = isObj(raw) && isObj(raw[from]) ? (raw[from] as Obj).depends_on : undefined;
  const i = Array.isArray(list) ? list.indexOf(dep) : -1;
  return i >= 0 ? [...base, i] : [...base, dep];
}

/** Every depends_on target exists (an implied one names its field), and the graph has no cycle (walked in sorted order). */
export function checkDependencies(
  all: Record<string, Service>,
  implied: Map<string, Map<string, ImpliedDependency>>,
  model: LoadedModel,
  ld: LoadContext,
): void {
  const fragOf = (n: string): ServiceFragment => model.services[n];
  /** where `from`'s dependency on `dep` is declared: its implied origin or its depends_on entry */
  const edgePath = (from: string, dep: string): Path => implied.get(from)?.get(dep)?.path ?? dependsOnPath(from, dep, fragOf(from), ld);

  for (const s of Object.values(all)) {
    for (const dep of Object.keys(s.depends_on)) {
      if (!Object.hasOwn(all, dep) && ld.strict) {
        const origin = implied.get(s.name)?.get(dep);
        const what = origin
          ? `${origin.field} refers to undefined service ${JSON.stringify(dep)}`
          : `service ${JSON.stringify(s.name)} depends on undefined service ${JSON.stringify(dep)}`;
        throw new TscError('SPEC_REFERENCE', `${posText(fragOf(s.name), edgePath(s.name, dep))}${origin ? `${formatPath(origin.path)}: ` : ''}${what}`, {
          hint: hintFor(dep, Object.keys(all)),
        });
      }
    }
  }
  const cycle = findCycle(Object.fromEntries(Object.values(all).map((s) => [s.name, Object.keys(s.depends_on)])));
  if (cycle) {
    const first = edgePath(cycle[0], cycle[1]);
    throw new TscError('SPEC_REFERENCE', `${posText(fragOf(cycle[0]), first)}${formatPath(first)}: dependency cycle between services: ${cycleText(cycle)}`, {
      hint: 'remove one of these dependencies (depends_on, links, volumes_from or a service: namespace)',
    });
  }
}

/** A cycle as `a -> b -> a`, its middle left out when it is long. */
function cycleText(cycle: string[]): string {
  if (cycle.length <= 12) return cycle.join(' -> ');
  return `${cycle.slice(0, 5).join(' -> ')} -> ... (${cycle.length - 10} more) -> ${cycle.slice(-5).join(' -> ')}`;
}

/** The networks and named volumes each service uses are declared; container_name goes with a single replica. */
export function checkReferences(
  all: Record<string, Service>,
  enabled: Set<string>,
  networks: Record<string, Network>,
  volumes: Record<string, Volume>,
  model: LoadedModel,
  ld: LoadContext,
): void {
  const fragOf = (n: string): ServiceFragment => model.services[n];
  for (const s of Object.values(all)) {
    for (const net of Object.keys(s.networks)) {
      if (net === 'default' && !Object.hasOwn(networks, net)) continue;
      if (!Object.hasOwn(networks, net) && ld.strict) {
        throw new TscError(
          'SPEC_REFERENCE',
          `${posText(fragOf(s.name), ['services', s.name, 'networks', net])}service ${JSON.stringify(s.name)} refers to undefined network ${JSON.stringify(net)}`,
          {
            hint: hintFor(net, Object.keys(networks)) ?? `declare it under the top-level networks: key`,
          },
        );
      }
    }
    s.volumes.forEach((v, i) => {
      if (ld.strict && v.type === 'volume' && v.source !== undefined && !Object.hasOwn(volumes, v.source)) {
        throw new TscError(
          'SPEC_REFERENCE',
          `${posText(fragOf(s.name), ['services', s.name, 'volumes', i])}service ${JSON.stringify(s.name)} refers to undefined volume ${JSON.stringify(v.source)}`,
          {
            hint: nearest(v.source, Object.keys(volumes))
              ? `did you mean ${JSON.stringify(nearest(v.source, Object.keys(volumes)))}?`
              : 'declare it under the top-level volumes: key, or write a path (./dir) for a bind mount',
          },
        );
      }
    });
  }
  for (const n of enabled) {
    const s = all[n];
    if (ld.strict && s.container_name !== undefined && (s.deploy?.replicas ?? 1) > 1) {
      throw specError(
        fragOf(n),
        ['services', n, 'container_name'],
        `service ${JSON.stringify(n)} sets container_name but runs ${s.deploy?.replicas} replicas: container names must be unique`,
        'remove container_name or set deploy.replicas to 1',
      );
    }
  }
}

/** At most LIMITS.services services and LIMITS.containers containers (replicas summed) in one project. */
export function checkSize(all: Record<string, Service>, files: string[]): void {
  const services = Object.keys(all).length;
  if (services > LIMITS.services) {
    throw new TscError('SPEC_INVALID', `${files.join(', ')}: ${services} services, more than the ${LIMITS.services} tscompose runs in one project`, {
      hint: 'split the project',
    });
  }
  let containers = 0;
  for (const s of Object.values(all)) containers += typeof s.deploy?.replicas === 'number' ? s.deploy.replicas : 1;
  if (containers > LIMITS.containers) {
    throw new TscError(
      'SPEC_INVALID',
      `${files.join(', ')}: the services ask for ${containers} containers, more than the ${LIMITS.containers} tscompose runs in one project`,
      {
        hint: 'lower scale or deploy.replicas, or split the project',
      },
    );
  }
}
