import { TscError } from '../common/errors.js';
import { LIMITS } from './limits.js';
import { Tagged } from './yaml.js';

/** Where a variable's value came from, in Compose's precedence order (shell wins). */
export type VariableSource = 'shell' | 'env-file' | 'dotenv' | 'default' | 'unset';

export interface ResolvedVariable {
  value: string;
  source: Exclude<VariableSource, 'default' | 'unset'>;
}

/** Looks a variable up; undefined when it is not set anywhere. */
export type Lookup = (name: string) => ResolvedVariable | undefined;

/** One variable that interpolation used: its final value and which source gave it. */
export interface EnvironmentEntry {
  name: string;
  /** The value substituted (null when unset and no default applied). */
  value: string | null;
  source: VariableSource;
  /** Where it was used: "file:services.web.image" entries. */
  usedIn: string[];
}

export interface InterpolationContext {
  lookup: Lookup;
  /** Filled as variables are used (one entry per variable name). */
  report: Map<string, EnvironmentEntry>;
  warnings: string[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

function record(ctx: InterpolationContext, name: string, value: string | null, source: VariableSource, where: string): void {
  const prev = ctx.report.get(name);
  if (prev) {
    if (!prev.usedIn.includes(where)) prev.usedIn.push(where);
    // A real value beats a default or an unset record for the report.
    if ((prev.source === 'default' || prev.source === 'unset') && source !== 'default' && source !== 'unset') {
      prev.value = value;
      prev.source = source;
    }
    return;
  }
  ctx.report.set(name, { name, value, source, usedIn: [where] });
}

/** Finds the index of the `}` closing a `${` whose body starts at `start`, counting nested braces. */
function closingBrace(s: string, start: number): number {
  let depth = 1;
  for (let i = start; i < s.length; i++) {
    const c = s[i];
    if (c === '$' && s[i + 1] === '$') {
      i++;
      continue;
    }
    if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/**
 * Substitutes variables in one string exactly as Compose does: `$VAR`, `${VAR}`,
 * `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}`, `${VAR?message}`, `${VAR:+alt}`,
 * `${VAR+alt}`, nested expressions inside defaults, and `$$` for a literal `$`. A `$` that
 * starts none of these (`$(hostname)`, `$1`, `'{print $0}'`, a trailing `$`) is kept as written;
 * a `${` that does not hold a valid expression is an error.
 * `where` names the place for error messages and the environment report.
 */
export function substitute(input: string, ctx: InterpolationContext, where: string, depth = 0): string {
  if (!input.includes('$')) return input;
  if (depth > LIMITS.interpolationDepth) {
    throw new TscError(
      'SPEC_INTERPOLATION',
      `invalid interpolation format in ${where}: \${...} expressions nest deeper than ${LIMITS.interpolationDepth} levels`,
      {
        hint: 'no value needs that many nested defaults; write it out',
      },
    );
  }
  let out = '';
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '{') {
      const end = closingBrace(input, i + 2);
      if (end < 0) throw invalid(input, where, 'a "${" is never closed by "}"');
      const body = input.slice(i + 2, end);
      out += expand(body, input, ctx, where, depth);
      i = end + 1;
      continue;
    }
    const m = NAME.exec(input.slice(i + 1));
    if (m) {
      const name = m[0];
      const v = ctx.lookup(name);
      if (v) {
        record(ctx, name, v.value, v.source, where);
        out += v.value;
      } else {
        record(ctx, name, null, 'unset', where);
        ctx.warnings.push(`The "${name}" variable is not set (used at ${where}). Defaulting to a blank string.`);
      }
      i += 1 + name.length;
      continue;
    }
    // Not a variable (`$(cmd)`, `$1`, `$0`, `$ `, a trailing `$`): kept as written, as
    // compose-go's template pattern only matches `$$`, `$NAME` and `${...}`.
    out += c;
    i++;
  }
  return out;
}

function invalid(input: string, where: string, why: string): TscError {
  return new TscError('SPEC_INTERPOLATION', `invalid interpolation format in ${where}: ${JSON.stringify(input)}: ${why}`, {
    hint: 'write "$$" for a literal dollar sign',
  });
}

function expand(body: string, whole: string, ctx: InterpolationContext, where: string, depth: number): string {
  const m = NAME.exec(body);
  if (!m) throw invalid(whole, where, `"\${${body}}" does not start with a variable name`);
  const name = m[0];
  const rest = body.slice(name.length);
  const v = ctx.lookup(name);
  if (rest === '') {
    if (v) {
      record(ctx, name, v.value, v.source, where);
      return v.value;
    }
    record(ctx, name, null, 'unset', where);
    ctx.warnings.push(`The "${name}" variable is not set (used at ${where}). Defaulting to a blank string.`);
    return '';
  }
  const op = /^(:-|-|:\?|\?|:\+|\+)/.exec(rest);
  if (!op) throw invalid(whole, where, `unknown operator after "${name}" in "\${${body}}"`);
  const arg = rest.slice(op[1].length);
  const emptyCounts = op[1].startsWith(':');
  const isSet = v !== undefined && (!emptyCounts || v.value !== '');
  switch (op[1]) {
    case ':-':
    case '-': {
      if (isSet) {
        record(ctx, name, v!.value, v!.source, where);
        return v!.value;
      }
      const d = substitute(arg, ctx, where, depth + 1);
      record(ctx, name, d, 'default', where);
      return d;
    }
    case ':?':
    case '?': {
      if (isSet) {
        record(ctx, name, v!.value, v!.source, where);
        return v!.value;
      }
      const msg = substitute(arg, ctx, where, depth + 1);
      throw new TscError(
        'SPEC_INTERPOLATION',
        `required variable ${name} is ${v === undefined ? 'missing a value' : 'empty'} (used in ${where})${msg ? `: ${msg}` : ''}`,
        { hint: `set ${name} in the shell environment, the project's .env file or an --env-file` },
      );
    }
    default: {
      // :+ and +: the alternative when set, else empty.
      if (v) record(ctx, name, v.value, v.source, where);
      else record(ctx, name, null, 'unset', where);
      return isSet ? substitute(arg, ctx, where, depth + 1) : '';
    }
  }
}

/**
 * Interpolates every string value of a parsed file, list items included (so `- ${K}=${V}`
 * is interpolated whole). Mapping keys are left as written, as compose-go does. `label` turns
 * a path into the "file:line:col services.web.image" text used in messages.
 */
export function interpolateTree(value: unknown, ctx: InterpolationContext, path: (string | number)[], label: (path: (string | number)[]) => string): unknown {
  if (typeof value === 'string') return substitute(value, ctx, label(path));
  if (Array.isArray(value)) return value.map((v, i) => interpolateTree(v, ctx, [...path, i], label));
  if (value instanceof Tagged) return new Tagged(value.tag, interpolateTree(value.value, ctx, path, label));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolateTree(v, ctx, [...path, k], label);
    return out;
  }
  return value;
}
