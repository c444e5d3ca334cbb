/**
 * The value helpers canonicalization is built from: the context a file is canonicalized in,
 * positioned errors, host path resolution, and typed scalars (booleans, integers, sizes,
 * durations, lists, mappings, commands) that keep a `$` expression as written in raw mode.
 */
import os from 'node:os';
import path from 'node:path';

import { TscError } from '../common/errors.js';
import { LIMITS, type NodeBudget } from './limits.js';
import { formatPath, type SourceMap } from './position.js';
import { splitShellWords } from './shell.js';
import { isIntString, parseBytes, parseDuration, toBoolean } from './units.js';
import { Tagged } from './yaml.js';

export type Path = (string | number)[];
export type Obj = Record<string, unknown>;

/** Turns one service key's value, as written (tags stripped), into its long form; undefined drops the key. */
export type Transformer = (v: unknown, ctx: CanonContext, p: Path) => unknown;

export interface CanonContext {
  /** directory relative paths are resolved against */
  baseDir: string;
  file: string;
  positions: SourceMap;
  env: (name: string) => string | undefined;
  /** --no-interpolate: values still holding a `$` expression are kept as written */
  raw?: boolean;
  /** --no-path-resolution: host paths are kept as written */
  keepPaths?: boolean;
  /** the load's budget, for what canonicalization expands (port ranges) */
  budget?: NodeBudget;
}

/** In raw mode a typed value still holding a variable is kept as its text. */
export function rawKept(v: unknown, ctx: CanonContext): boolean {
  return ctx.raw === true && typeof v === 'string' && v.includes('$');
}

export function specError(ctx: { file: string; positions: SourceMap }, p: Path, msg: string, hint?: string): TscError {
  const pos = ctx.positions.find(p);
  const where = pos ? `${pos.file}:${pos.line}:${pos.col}` : ctx.file;
  return new TscError('SPEC_INVALID', `${where}: ${formatPath(p)}: ${msg}`, { hint });
}

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Tagged);
}

export function resolveHostPath(p: string, ctx: CanonContext): string {
  if (ctx.keepPaths) return p;
  if (p === '~' || p.startsWith('~/')) {
    const home = ctx.env('HOME') ?? os.homedir();
    return path.join(home, p.slice(1));
  }
  return path.resolve(ctx.baseDir, p);
}

export function bool(v: unknown, ctx: CanonContext, p: Path): boolean {
  if (rawKept(v, ctx)) return v as unknown as boolean;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const b = toBoolean(v);
    if (b !== undefined) return b;
  }
  throw specError(ctx, p, `expected a boolean (true/false), got ${JSON.stringify(v)}`);
}

export function int(v: unknown, ctx: CanonContext, p: Path): number {
  if (rawKept(v, ctx)) return v as unknown as number;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && isIntString(v)) return Number(v);
  throw specError(ctx, p, `expected an integer, got ${JSON.stringify(v)}`);
}

/** A transformer for an integer within [min, max]: `what` names the bound in the message ("the range of oom_score_adj"). */
export function intIn(min: number, max: number, what: string): Transformer {
  return (v, ctx, p) => {
    const n = int(v, ctx, p);
    if (!rawKept(v, ctx) && (n < min || n > max)) throw specError(ctx, p, `${n} is outside ${what}, ${min} to ${max}`);
    return n;
  };
}

/** `scale` and `deploy.replicas`: at most LIMITS.replicas containers of one service. */
export const replicas = intIn(0, LIMITS.replicas, 'the replicas tscompose runs for one service');

export function num(v: unknown, ctx: CanonContext, p: Path): number {
  if (rawKept(v, ctx)) return v as unknown as number;
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  throw specError(ctx, p, `expected a number, got ${JSON.stringify(v)}`);
}

export function bytes(v: unknown, ctx: CanonContext, p: Path): number {
  if (rawKept(v, ctx)) return v as unknown as number;
  const b = typeof v === 'string' || typeof v === 'number' ? parseBytes(v) : undefined;
  if (b === undefined) throw specError(ctx, p, `expected a size such as 512m or 1g, got ${JSON.stringify(v)}`);
  return b;
}

export function duration(v: unknown, ctx: CanonContext, p: Path): number {
  if (rawKept(v, ctx)) return v as unknown as number;
  const d = typeof v === 'string' || typeof v === 'number' ? parseDuration(v) : undefined;
  if (d === undefined) throw specError(ctx, p, `expected a duration such as 10s or 1m30s, got ${JSON.stringify(v)}`);
  return d;
}

function scalarString(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return String(v);
}

/** list (KEY=VAL / KEY) or mapping → mapping of strings (null when declared without value). */
export function listOrDict(v: unknown, ctx: CanonContext, p: Path, sep = '='): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (Array.isArray(v)) {
    v.forEach((item, i) => {
      const s = String(item);
      const at = s.indexOf(sep);
      if (at === 0) throw specError(ctx, [...p, i], `an entry must start with a name: ${JSON.stringify(s)}`);
      if (at < 0) out[s] = null;
      else out[s.slice(0, at)] = s.slice(at + 1);
    });
  } else if (isObj(v)) {
    for (const [k, val] of Object.entries(v)) {
      if (k === '') throw specError(ctx, p, 'an entry with an empty name');
      out[k] = scalarString(val);
    }
  }
  return out;
}

export function strings(v: unknown): string[] {
  if (v === null || v === undefined) return [];
  return Array.isArray(v) ? v.map(String) : [String(v)];
}

export function commandOf(v: unknown, ctx: CanonContext, p: Path): string[] | null {
  if (v === null) return null;
  if (Array.isArray(v)) return v.map(String);
  const words = splitShellWords(String(v));
  if (!words) throw specError(ctx, p, `unbalanced quotes in ${JSON.stringify(v)}`);
  return words;
}
