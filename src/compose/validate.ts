/** Turns zod issues into one clear TscError naming file:line:col, the key path and what was expected. */
import type { z } from 'zod';

import { TscError } from '../common/errors.js';
import { formatPath, nearest, type SourceMap } from './position.js';
import { ComposeFileSchema } from './schema-input.js';
import { stripTags } from './canonical.js';
import type { Path } from './canonical-values.js';

type Issue = z.core.$ZodIssue;
// zod's internal definition object, read to find the keys an object accepts.
type Def = {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  options?: z.ZodType[];
  valueType?: z.ZodType;
  element?: z.ZodType;
  in?: z.ZodType;
};

function defOf(s: z.ZodType): Def {
  return (s as unknown as { _zod: { def: Def } })._zod.def;
}

/** The object keys a schema accepts at `path` (for "did you mean" suggestions). */
function keysAt(schema: z.ZodType, path: Path): string[] {
  const objects = (s: z.ZodType, depth: number): z.ZodType[] => {
    const d = defOf(s);
    if (d.type === 'optional' || d.type === 'nullable' || d.type === 'default' || d.type === 'readonly') return objects(d.innerType!, depth);
    if (d.type === 'pipe') return objects(d.in!, depth);
    if (d.type === 'union') return d.options!.flatMap((o) => objects(o, depth));
    if (depth === path.length) return d.type === 'object' ? [s] : [];
    const seg = path[depth];
    if (d.type === 'object' && typeof seg === 'string' && d.shape![seg]) return objects(d.shape![seg], depth + 1);
    if (d.type === 'record' && typeof seg === 'string') return objects(d.valueType!, depth + 1);
    if (d.type === 'array' && typeof seg === 'number') return objects(d.element!, depth + 1);
    return [];
  };
  const keys = new Set<string>();
  for (const o of objects(schema, 0)) for (const k of Object.keys(defOf(o).shape ?? {})) keys.add(k);
  return [...keys];
}

function valueAt(data: unknown, path: Path): unknown {
  let cur = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 60 ? v.slice(0, 57) + '...' : v)}`;
  return `${typeof v} ${String(v)}`;
}

function expectedName(e: string): string {
  switch (e) {
    case 'object':
      return 'a mapping';
    case 'array':
      return 'a list';
    case 'record':
      return 'a mapping';
    case 'null':
      return 'null';
    case 'number':
    case 'int':
      return 'a number';
    default:
      return `a ${e}`;
  }
}

interface Flat {
  path: Path;
  issue: Issue;
  expected?: string[];
}

/** Flattens unions: keep the branch that got furthest into the value, or merge root type errors. */
function flatten(issue: Issue, base: Path): Flat[] {
  const path = [...base, ...(issue.path as Path)];
  if (issue.code === 'invalid_union' && 'errors' in issue && issue.errors.length > 0) {
    const branches = issue.errors.map((b) => b.flatMap((i) => flatten(i, path)));
    const score = (b: Flat[]): number =>
      Math.max(...b.map((f) => f.path.length + (f.issue.code === 'invalid_type' && f.path.length === path.length ? 0 : 0.5)));
    const best = branches.reduce((a, b) => (score(b) > score(a) ? b : a));
    if (best.every((f) => f.issue.code === 'invalid_type' && f.path.length === path.length)) {
      const expected = [
        ...new Set(
          branches
            .flat()
            .filter((f) => f.issue.code === 'invalid_type')
            .map((f) => expectedName(String((f.issue as { expected?: string }).expected))),
        ),
      ];
      return [{ path, issue, expected }];
    }
    return best;
  }
  return [{ path, issue }];
}

export interface ValidationTarget {
  file: string;
  positions: SourceMap;
}

/** Message for one issue; `data` is the validated value (to show what was found). */
function explain(f: Flat, data: unknown, schema: z.ZodType): { path: Path; msg: string; hint?: string } {
  const { issue } = f;
  const found = valueAt(data, f.path);
  if (f.expected) {
    const names = [...new Set(f.expected)];
    const list = names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}` : names[0];
    return { path: f.path, msg: found === undefined ? `missing required key, expected ${list}` : `expected ${list}, got ${describe(found)}` };
  }
  switch (issue.code) {
    case 'unrecognized_keys': {
      const key = issue.keys[0];
      const candidates = keysAt(schema, f.path);
      const near = nearest(key, candidates);
      const more =
        issue.keys.length > 1
          ? ` (also: ${issue.keys
              .slice(1)
              .map((k) => JSON.stringify(k))
              .join(', ')})`
          : '';
      return {
        path: [...f.path, key],
        msg: `unknown key ${JSON.stringify(key)}${more}`,
        hint: near ? `did you mean ${JSON.stringify(near)}?` : candidates.length > 0 ? `valid keys here: ${candidates.sort().join(', ')}` : undefined,
      };
    }
    case 'invalid_type':
      return {
        path: f.path,
        msg:
          found === undefined
            ? `missing required key, expected ${expectedName(issue.expected)}`
            : `expected ${expectedName(issue.expected)}, got ${describe(found)}`,
      };
    case 'invalid_value': {
      const near = typeof found === 'string' ? nearest(found, issue.values.map(String)) : undefined;
      return {
        path: f.path,
        msg: `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describe(found)}`,
        hint: near ? `did you mean ${JSON.stringify(near)}?` : undefined,
      };
    }
    case 'invalid_key':
      return { path: f.path, msg: `invalid name: ${issue.issues[0]?.message ?? issue.message}` };
    case 'invalid_format':
      return { path: f.path, msg: `${issue.message.replace(/^Invalid string: /, '')}, got ${describe(found)}` };
    case 'too_small':
    case 'too_big':
      return { path: f.path, msg: `${issue.message}, got ${describe(found)}` };
    default:
      return { path: f.path, msg: issue.message };
  }
}

/**
 * Validates one file's data (after interpolation) against the input schema. Throws a
 * SPEC_INVALID TscError for the first problem (position, key path, expectation, suggestion).
 */
export function validateFile(data: unknown, target: ValidationTarget, schema: z.ZodType = ComposeFileSchema): void {
  const res = schema.safeParse(stripTags(data));
  if (res.success) return;
  report(
    res.error.issues.flatMap((i) => flatten(i, [])),
    data,
    target,
    schema,
  );
}

/**
 * Throws for the first unknown key of a file not yet interpolated (keys are never interpolated,
 * so this is already exact). Used when interpolation fails: a misspelt or unknown key must be
 * reported as such, not as an interpolation error in its value.
 */
export function checkUnknownKeys(data: unknown, target: ValidationTarget, schema: z.ZodType = ComposeFileSchema): void {
  const res = schema.safeParse(stripTags(data));
  if (res.success) return;
  const unknown = res.error.issues.flatMap((i) => flatten(i, [])).filter((f) => f.issue.code === 'unrecognized_keys');
  if (unknown.length > 0) report(unknown, data, target, schema);
}

function report(flat: Flat[], data: unknown, target: ValidationTarget, schema: z.ZodType): never {
  // Prefer the problem that appears first in the file.
  const explained = flat.map((f) => explain(f, data, schema));
  const lineOf = (p: Path): number => {
    const pos = target.positions.find(p);
    return pos ? pos.line * 10000 + pos.col : Number.MAX_SAFE_INTEGER;
  };
  explained.sort((a, b) => lineOf(a.path) - lineOf(b.path));
  const first = explained[0];
  const pos = target.positions.find(first.path);
  const where = pos ? `${pos.file}:${pos.line}:${pos.col}` : target.file;
  const more = explained.length > 1 ? ` (${explained.length - 1} more problem${explained.length > 2 ? 's' : ''} in this file)` : '';
  throw new TscError('SPEC_INVALID', `${where}: ${formatPath(first.path) || '(top level)'}: ${first.msg}${more}`, { hint: first.hint });
}
