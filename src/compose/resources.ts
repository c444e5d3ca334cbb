/** Stage "networks and volumes": the top-level networks and volumes with their names and defaults, and the implicit `default` network. */
import { isObj } from './canonical-values.js';
import type { LoadedModel, Obj } from './load-context.js';
import type { Network, Service, Volume } from './schema.js';

/** Labels of a network or volume (list or mapping, validated already) as a string mapping. */
function labelsOf(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(v)) {
    for (const e of v) {
      const s = String(e);
      const eq = s.indexOf('=');
      out[eq < 0 ? s : s.slice(0, eq)] = eq < 0 ? '' : s.slice(eq + 1);
    }
  } else if (isObj(v)) {
    for (const [k, val] of Object.entries(v)) out[k] = val === null || val === undefined ? '' : String(val);
  }
  return out;
}

function finalizeNetwork(key: string, raw: unknown, project: string): Network {
  const n = (isObj(raw) ? raw : {}) as Obj;
  const ext = n.external;
  const external = ext === true || ext === 'true' || isObj(ext);
  const extName = isObj(ext) && typeof ext.name === 'string' ? ext.name : undefined;
  const out: Obj = {
    name: typeof n.name === 'string' ? n.name : external ? (extName ?? key) : `${project}_${key}`,
    external,
    internal: n.internal === true || n.internal === 'true',
    labels: labelsOf(n.labels),
    extensions: Object.fromEntries(Object.entries(n).filter(([k]) => k.startsWith('x-'))),
  };
  if (n.driver !== undefined) out.driver = n.driver;
  if (isObj(n.driver_opts)) out.driver_opts = Object.fromEntries(Object.entries(n.driver_opts).map(([k, v]) => [k, String(v)]));
  if (isObj(n.ipam)) out.ipam = { ...n.ipam, config: (n.ipam.config as unknown[] | undefined) ?? [] };
  if (n.enable_ipv6 !== undefined) out.enable_ipv6 = n.enable_ipv6 === true || n.enable_ipv6 === 'true';
  if (n.attachable !== undefined) out.attachable = n.attachable === true || n.attachable === 'true';
  return out as unknown as Network;
}

function finalizeVolume(key: string, raw: unknown, project: string): Volume {
  const v = (isObj(raw) ? raw : {}) as Obj;
  const ext = v.external;
  const external = ext === true || ext === 'true' || isObj(ext);
  const extName = isObj(ext) && typeof ext.name === 'string' ? ext.name : undefined;
  const out: Obj = {
    name: typeof v.name === 'string' ? v.name : external ? (extName ?? key) : `${project}_${key}`,
    external,
    labels: labelsOf(v.labels),
    extensions: Object.fromEntries(Object.entries(v).filter(([k]) => k.startsWith('x-'))),
  };
  if (v.driver !== undefined) out.driver = v.driver;
  if (isObj(v.driver_opts)) out.driver_opts = Object.fromEntries(Object.entries(v.driver_opts).map(([k, val]) => [k, String(val)]));
  return out as unknown as Volume;
}

/** The model's networks and volumes, finalized (`name` defaults to `<project>_<key>`). */
export function topLevelResources(model: LoadedModel, project: string): { networks: Record<string, Network>; volumes: Record<string, Volume> } {
  const networks: Record<string, Network> = {};
  for (const [k, v] of Object.entries(model.networks)) networks[k] = finalizeNetwork(k, v, project);
  const volumes: Record<string, Volume> = {};
  for (const [k, v] of Object.entries(model.volumes)) volumes[k] = finalizeVolume(k, v, project);
  return { networks, volumes };
}

/**
 * A service with neither networks nor network_mode joins `default`; the `default` network is
 * created when an enabled service uses it and the files do not declare it.
 */
export function addDefaultNetwork(all: Record<string, Service>, enabled: Set<string>, networks: Record<string, Network>, project: string): void {
  for (const s of Object.values(all)) {
    if (Object.keys(s.networks).length === 0 && s.network_mode === undefined) s.networks = { default: null };
    if (Object.hasOwn(s.networks, 'default') && !Object.hasOwn(networks, 'default') && enabled.has(s.name))
      networks.default = finalizeNetwork('default', null, project);
  }
}
