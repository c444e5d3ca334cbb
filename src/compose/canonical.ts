/**
 * Short syntax → long syntax, once, per file (after validation, before merging), so that
 * merging and everything later only ever see the long form. Relative host paths are made
 * absolute against `baseDir` here too.
 *
 * One transformer per service key (the table below, built from the themed modules
 * canonical-ports, canonical-volumes, canonical-networks, canonical-resources and
 * canonical-service); a key without one is kept as written.
 */
import { NETWORK_TRANSFORMERS } from './canonical-networks.js';
import { PORT_TRANSFORMERS } from './canonical-ports.js';
import { RESOURCE_TRANSFORMERS } from './canonical-resources.js';
import { SERVICE_TRANSFORMERS } from './canonical-service.js';
import { isObj, type CanonContext, type Obj, type Path, type Transformer } from './canonical-values.js';
import { VOLUME_TRANSFORMERS } from './canonical-volumes.js';
import { Tagged } from './yaml.js';

/** Service key → its transformer. Each key belongs to exactly one themed table. */
const TRANSFORMERS: ReadonlyMap<string, Transformer> = (() => {
  const table = new Map<string, Transformer>();
  for (const part of [SERVICE_TRANSFORMERS, PORT_TRANSFORMERS, VOLUME_TRANSFORMERS, NETWORK_TRANSFORMERS, RESOURCE_TRANSFORMERS]) {
    for (const [key, t] of Object.entries(part)) {
      if (table.has(key)) throw new Error(`canonical: two transformers for the service key ${key}`);
      table.set(key, t);
    }
  }
  return table;
})();

function canonicalKey(key: string, v: unknown, ctx: CanonContext, p: Path): unknown {
  const t = TRANSFORMERS.get(key);
  return t ? t(v, ctx, p) : v;
}

/** Canonicalizes one service of one file (a fragment: only the keys present). */
export function canonicalService(raw: Obj, ctx: CanonContext, p: Path): Obj {
  const out: Obj = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key.startsWith('x-')) {
      out[key] = value;
      continue;
    }
    if (value instanceof Tagged) {
      out[key] = value.tag === 'reset' ? value : new Tagged('override', canonicalKey(key, stripTags(value.value), ctx, [...p, key]));
      continue;
    }
    const c = canonicalKey(key, stripTags(value), ctx, [...p, key]);
    if (c !== undefined) out[key] = c;
  }
  return out;
}

/** Removes `!reset`/`!override` tags below the first level: `!override` keeps its value, `!reset` removes the entry. */
export function stripTags(v: unknown): unknown {
  if (v instanceof Tagged) return v.tag === 'reset' ? undefined : stripTags(v.value);
  if (Array.isArray(v)) return v.filter((e) => !(e instanceof Tagged && e.tag === 'reset')).map(stripTags);
  if (isObj(v)) {
    const out: Obj = {};
    for (const [k, val] of Object.entries(v)) {
      if (val instanceof Tagged && val.tag === 'reset') continue;
      out[k] = stripTags(val);
    }
    return out;
  }
  return v;
}
