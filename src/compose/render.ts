/**
 * The model as `docker compose config` prints it: long syntax, absolute paths, durations as Go
 * duration strings ("1m30s"), sizes as byte counts, keys sorted, empty values left out.
 */
import { stringify } from 'yaml';

import type { Obj } from './canonical-values.js';
import type { Project, Service } from './schema.js';
import { formatLink } from './implied.js';
import { formatDuration } from './units.js';

function isEmpty(v: unknown): boolean {
  if (v === undefined) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (v && typeof v === 'object') return Object.keys(v).length === 0;
  return false;
}

function sorted(o: Obj, keepEmpty: readonly string[] = []): Obj {
  const out: Obj = {};
  for (const k of Object.keys(o).sort()) if (!isEmpty(o[k]) || (keepEmpty.includes(k) && o[k] !== undefined)) out[k] = o[k];
  return out;
}

function serviceView(s: Service): Obj {
  const v: Obj = { ...s, ...s.extensions, ...s.unsupported };
  delete v.name;
  delete v.extensions;
  delete v.unsupported;
  if (s.command === null) delete v.command;
  if (s.entrypoint === null) delete v.entrypoint;
  for (const k of ['mem_limit', 'mem_reservation', 'memswap_limit'] as const) if (s[k] !== undefined) v[k] = String(s[k]);
  if (s.stop_grace_period !== undefined) v.stop_grace_period = formatDuration(s.stop_grace_period);
  if (s.healthcheck) {
    const h: Obj = { ...s.healthcheck };
    for (const k of ['interval', 'timeout', 'start_period', 'start_interval'] as const) {
      const d = s.healthcheck[k];
      if (d !== undefined) h[k] = formatDuration(d);
    }
    if (!s.healthcheck.disable) delete h.disable;
    v.healthcheck = h;
  }
  if (s.deploy?.resources) {
    const r: Obj = { ...s.deploy.resources };
    for (const which of ['limits', 'reservations'] as const) {
      const l = s.deploy.resources[which];
      if (l?.memory !== undefined) r[which] = { ...l, memory: String(l.memory) };
    }
    v.deploy = { ...s.deploy, resources: r };
  }
  if (s.build?.shm_size !== undefined) v.build = { ...s.build, shm_size: String(s.build.shm_size) };
  // links print as written in Compose's short form
  if (s.links) v.links = s.links.map(formatLink);
  if (!isEmpty(s.extra_hosts)) v.extra_hosts = Object.entries(s.extra_hosts).flatMap(([h, ips]) => ips.map((ip) => `${h}=${ip}`));
  // An empty command/entrypoint clears the image's one: it must show.
  return sorted(v, ['command', 'entrypoint']);
}

/** The object `config` prints (also the JSON form). */
function configView(p: Project): Obj {
  const out: Obj = { name: p.name };
  out.services = Object.fromEntries(
    Object.keys(p.services)
      .sort()
      .map((n) => [n, serviceView(p.services[n])]),
  );
  const nets = Object.fromEntries(
    Object.entries(p.networks).map(([k, n]) => {
      const v: Obj = { ...n, ...n.extensions };
      delete v.extensions;
      if (!n.external) delete v.external;
      if (!n.internal) delete v.internal;
      return [k, sorted(v)];
    }),
  );
  if (!isEmpty(nets)) out.networks = nets;
  const vols = Object.fromEntries(
    Object.entries(p.volumes).map(([k, n]) => {
      const v: Obj = { ...n, ...n.extensions };
      delete v.extensions;
      if (!n.external) delete v.external;
      return [k, sorted(v)];
    }),
  );
  if (!isEmpty(vols)) out.volumes = vols;
  if (!isEmpty(p.secrets)) out.secrets = p.secrets;
  if (!isEmpty(p.configs)) out.configs = p.configs;
  Object.assign(out, p.extensions);
  return out;
}

export function renderConfig(p: Project, format: 'yaml' | 'json' = 'yaml'): string {
  const view = configView(p);
  if (format === 'json') return JSON.stringify(view, null, 2) + '\n';
  return stringify(view, { lineWidth: 0, aliasDuplicateObjects: false });
}

/** `config --environment`: one line per variable: NAME=value, its source and where it is used. */
export function renderEnvironment(p: Project): string {
  return (
    p.environment.map((e) => `${e.name}=${e.value ?? ''}\t# ${e.source === 'unset' ? 'unset (blank)' : e.source}; used in ${e.usedIn.join(', ')}`).join('\n') +
    (p.environment.length ? '\n' : '')
  );
}
