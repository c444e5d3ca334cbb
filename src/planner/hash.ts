/**
 * The config hash: sha256 of a canonical JSON of the normalized service definition, minus the
 * fields that must not force a recreate. Canonical means keys sorted at every level and
 * undefined dropped, so the same definition gives the same hash on any machine and in any run,
 * whatever order its keys were written in.
 *
 * Fields left out, as Docker Compose does (pkg/compose/hash.go): build, pull_policy, scale,
 * deploy.replicas, depends_on, profiles; and the service's `x-*` extension keys (Compose never
 * serializes them into the hash), whether kept at the top level or gathered under
 * `extensions`. Everything else (labels included) is part of the hash.
 */
import { createHash } from 'node:crypto';
import { TscError } from '../common/errors.js';

const IGNORED_TOP_LEVEL = new Set(['build', 'pull_policy', 'scale', 'depends_on', 'profiles', 'extensions']);

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON with sorted keys and no undefined members; throws on values JSON cannot carry faithfully. */
export function canonicalJson(value: unknown): string {
  return write(value, '$');
}

function write(v: unknown, where: string): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return JSON.stringify(v);
    case 'number':
      if (!Number.isFinite(v)) throw new TscError('INTERNAL', `cannot hash the service definition: ${where} is ${v}`);
      return JSON.stringify(v);
    case 'object': {
      if (Array.isArray(v)) return `[${v.map((x, i) => (x === undefined ? 'null' : write(x, `${where}[${i}]`))).join(',')}]`;
      const obj = v as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${write(obj[k], `${where}.${k}`)}`).join(',')}}`;
    }
    default:
      throw new TscError('INTERNAL', `cannot hash the service definition: ${where} is a ${typeof v}`);
  }
}

/** A copy of the definition without the fields that must not force a recreate. */
export function hashableDefinition(definition: unknown): unknown {
  if (!isPlainObject(definition)) return definition;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(definition)) {
    if (v === undefined || IGNORED_TOP_LEVEL.has(k) || k.startsWith('x-')) continue;
    out[k] = v;
  }
  if (isPlainObject(out.deploy) && 'replicas' in out.deploy) {
    const { replicas: _replicas, ...rest } = out.deploy;
    // `deploy: {replicas: 2}` and no deploy at all describe the same container
    if (Object.values(rest).every((x) => x === undefined)) delete out.deploy;
    else out.deploy = rest;
  }
  return out;
}

/** sha256 hex of the canonical JSON of the hashable definition. */
export function configHash(definition: unknown): string {
  return createHash('sha256')
    .update(canonicalJson(hashableDefinition(definition)))
    .digest('hex');
}

function pathKey(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

export interface DiffOptions {
  /**
   * A top-level field the recorded definition does not have at all, and whose desired value is
   * empty (null, [], {}), is not a difference: it is a field a later tscompose added to the
   * normal form, not a change the user made.
   */
  tolerateNewEmptyFields?: boolean;
}

function isEmptyValue(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isPlainObject(v)) return Object.values(v).every((x) => x === undefined);
  return false;
}

/**
 * The paths at which two definitions differ (after dropping the ignored fields), sorted:
 * `environment.FOO`, `labels["com.example.tier"]`, `ports[0].published`. A member present on one
 * side only is reported at its own path.
 */
export function diffDefinitions(recorded: unknown, desired: unknown, opts: DiffOptions = {}): string[] {
  const out: string[] = [];
  const a = hashableDefinition(recorded);
  const b = hashableDefinition(desired);
  if (opts.tolerateNewEmptyFields && isPlainObject(a) && isPlainObject(b)) {
    const trimmed: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(b)) if (k in a || !isEmptyValue(v)) trimmed[k] = v;
    diff(a, trimmed, '', out);
  } else {
    diff(a, b, '', out);
  }
  return out.map((p) => p.replace(/^\./, '')).sort();
}

function diff(a: unknown, b: unknown, at: string, out: string[]): void {
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of [...keys].sort()) {
      const av = a[k];
      const bv = b[k];
      if (av === undefined && bv === undefined) continue;
      diff(av, bv, at + pathKey(k), out);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const n = Math.max(a.length, b.length);
    for (let i = 0; i < n; i++) {
      if (i >= a.length || i >= b.length) out.push(`${at}[${i}]`);
      else diff(a[i], b[i], `${at}[${i}]`, out);
    }
    return;
  }
  if (a === undefined || b === undefined || canonicalJson(a) !== canonicalJson(b)) out.push(at === '' ? '(definition)' : at);
}
