/**
 * Dependencies a service declares without depends_on, added to depends_on by the loader (the one
 * place this is done: the planner reads depends_on only), as compose-go's Normalize does:
 *
 * - `links: [db]` / `links: ["db:alias"]`: condition service_started, restart true, required true
 * - `network_mode`, `ipc`, `pid`, `uts`, `cgroup` of the form `service:NAME`: the same
 * - `volumes_from: [NAME]` / `[NAME:ro]` (not `container:...`): service_started, restart FALSE,
 *   required true
 *
 * An explicit depends_on entry for the same service wins (it is left as written).
 */
import type { Obj, Path } from './canonical-values.js';
import type { LoadedModel } from './load-context.js';
import { unwrap } from './merge.js';
import type { DependsOn, Service } from './schema.js';

/** One `links` entry: the service linked to and the host name it is known by (the service name when no alias is given). */
export interface Link {
  service: string;
  alias: string;
}

/** `db` → {service: db, alias: db}; `db:database` → {service: db, alias: database}. */
export function parseLink(entry: string): Link {
  const colon = entry.indexOf(':');
  if (colon < 0) return { service: entry, alias: entry };
  return { service: entry.slice(0, colon), alias: entry.slice(colon + 1) || entry.slice(0, colon) };
}

/** The config form Compose prints: `db` when the alias is the service name, else `db:alias`. */
export function formatLink(l: Link): string {
  return l.alias === l.service ? l.service : `${l.service}:${l.alias}`;
}

export interface ImpliedDependency {
  /** the service depended on */
  service: string;
  /** where it is declared, relative to the file root (`services.web.links[0]`) */
  path: Path;
  /** the declaring field, for messages */
  field: string;
  spec: DependsOn;
}

const NAMESPACES = ['network_mode', 'ipc', 'pid', 'uts', 'cgroup'] as const;

/** The implied dependencies of one merged service (long-form keys, before finalizing), in Compose's order. */
function impliedDependencies(name: string, s: Obj): ImpliedDependency[] {
  const out: ImpliedDependency[] = [];
  const at = (...p: Path): Path => ['services', name, ...p];
  const started = (restart: boolean): DependsOn => ({ condition: 'service_started', restart, required: true });
  if (Array.isArray(s.links)) {
    s.links.forEach((e, i) => {
      if (typeof e === 'string') out.push({ service: parseLink(e).service, path: at('links', i), field: 'links', spec: started(true) });
    });
  }
  for (const field of NAMESPACES) {
    const v = s[field];
    if (typeof v === 'string' && v.startsWith('service:') && v.length > 'service:'.length) {
      out.push({ service: v.slice('service:'.length), path: at(field), field, spec: started(true) });
    }
  }
  if (Array.isArray(s.volumes_from)) {
    s.volumes_from.forEach((e, i) => {
      if (typeof e !== 'string' || e.startsWith('container:')) return;
      const ref = e.split(':')[0];
      if (ref) out.push({ service: ref, path: at('volumes_from', i), field: 'volumes_from', spec: started(false) });
    });
  }
  return out;
}

/**
 * Adds the implied dependencies to `dependsOn` (explicit entries win) and returns, for each
 * dependency added, where it was declared.
 */
function addImpliedDependencies(name: string, s: Obj, dependsOn: Record<string, DependsOn>): Map<string, ImpliedDependency> {
  const origins = new Map<string, ImpliedDependency>();
  for (const d of impliedDependencies(name, s)) {
    if (Object.hasOwn(dependsOn, d.service)) continue;
    dependsOn[d.service] = d.spec;
    origins.set(d.service, d);
  }
  return origins;
}

/**
 * Stage "implied dependencies": adds each service's implied dependencies to its depends_on and
 * returns, per service, the ones added with where they were declared (for error positions).
 */
export function addAllImpliedDependencies(model: LoadedModel, all: Record<string, Service>): Map<string, Map<string, ImpliedDependency>> {
  const implied = new Map<string, Map<string, ImpliedDependency>>();
  for (const [n, frag] of Object.entries(model.services)) implied.set(n, addImpliedDependencies(n, unwrap(frag.data) as Obj, all[n].depends_on));
  return implied;
}
