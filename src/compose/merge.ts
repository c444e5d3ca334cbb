/**
 * Compose's merge rules, applied to canonical (long syntax) fragments: mappings merge key by
 * key, sequences append, `command`/`entrypoint`/`healthcheck.test` are replaced, `ports`
 * (by host_ip + published + target + protocol) and `volumes` (by target) merge by their unique
 * key, and `!reset` / `!override` remove or replace a value outright.
 */
import { isObj, type Obj } from './canonical-values.js';
import type { LoadedModel, ServiceFragment } from './load-context.js';
import { Tagged } from './yaml.js';

const REPLACED = new Set(['command', 'entrypoint', 'healthcheck.test', 'extra_hosts.*', 'networks.*.aliases']);

function portKey(p: Obj): string {
  return `${p.host_ip ?? ''}|${p.published ?? ''}|${p.target}|${p.protocol ?? 'tcp'}`;
}

function uniqueMerge(base: unknown[], over: unknown[], key: (v: Obj) => string): unknown[] {
  const out = [...base];
  for (const item of over) {
    if (!isObj(item)) {
      out.push(item);
      continue;
    }
    const k = key(item);
    const at = out.findIndex((b) => isObj(b) && key(b) === k);
    if (at >= 0) out[at] = mergeValue(out[at], item, '');
    else out.push(item);
  }
  return out;
}

function pathMatches(p: string, pattern: string): boolean {
  const a = p.split('.');
  const b = pattern.split('.');
  return a.length === b.length && b.every((seg, i) => seg === '*' || seg === a[i]);
}

/** Merges `over` onto `base` at a service-relative dotted path. */
function mergeValue(base: unknown, over: unknown, at: string): unknown {
  if (over instanceof Tagged) return over.tag === 'reset' ? undefined : unwrap(over.value);
  if (base === undefined || base === null) return unwrap(over);
  if (over === undefined) return base;
  if (over === null) return base;
  if ([...REPLACED].some((r) => pathMatches(at, r))) return unwrap(over);
  if (at === 'ports' && Array.isArray(base) && Array.isArray(over)) return uniqueMerge(base, over, portKey);
  if (at === 'volumes' && Array.isArray(base) && Array.isArray(over)) return uniqueMerge(base, over, (v) => String(v.target));
  if ((at === 'secrets' || at === 'configs') && Array.isArray(base) && Array.isArray(over)) {
    return uniqueMerge(base, over, (v) => String(v.target ?? v.source));
  }
  if (at === 'env_file' && Array.isArray(base) && Array.isArray(over)) return uniqueMerge(base, over, (v) => String(v.path));
  if (Array.isArray(base) && Array.isArray(over)) {
    const out = [...base];
    for (const v of over) if (isObj(v) || !out.includes(v)) out.push(unwrap(v));
    return out;
  }
  if (isObj(base) && isObj(over)) return mergeMapping(base, over, at);
  return unwrap(over);
}

function mergeMapping(base: Obj, over: Obj, at = ''): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const merged = mergeValue(base[k], v, at === '' ? k : `${at}.${k}`);
    if (merged === undefined) delete out[k];
    else out[k] = merged;
  }
  return out;
}

/** Drops tags left in a value that had nothing to merge with. */
export function unwrap(v: unknown): unknown {
  if (v instanceof Tagged) return v.tag === 'reset' ? undefined : unwrap(v.value);
  if (Array.isArray(v)) return v.map(unwrap).filter((e) => e !== undefined);
  if (isObj(v)) {
    const out: Obj = {};
    for (const [k, val] of Object.entries(v)) {
      const u = unwrap(val);
      if (u !== undefined) out[k] = u;
    }
    return out;
  }
  return v;
}

/** Merges one service fragment onto another (used for -f files and for extends). */
export function mergeService(base: Obj, over: Obj): Obj {
  return mergeMapping(base, over, '');
}

/** Merges two loaded files (or included sub-projects): `b` onto `a`. */
export function mergeModels(a: LoadedModel, b: LoadedModel): LoadedModel {
  const services: Record<string, ServiceFragment> = { ...a.services };
  for (const [n, f] of Object.entries(b.services)) {
    services[n] = services[n] ? { data: mergeService(services[n].data, f.data), file: f.file, positions: f.positions } : f;
  }
  return {
    name: b.name ?? a.name,
    services,
    networks: mergeMapping(a.networks, b.networks),
    volumes: mergeMapping(a.volumes, b.volumes),
    secrets: mergeMapping(a.secrets, b.secrets),
    configs: mergeMapping(a.configs, b.configs),
    models: mergeMapping(a.models, b.models),
    extensions: mergeMapping(a.extensions, b.extensions),
    files: [...a.files, ...b.files.filter((f) => !a.files.includes(f))],
  };
}
