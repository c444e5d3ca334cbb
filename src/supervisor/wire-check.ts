/**
 * A small hand-written validator for the socket protocol (protocol.ts): checks compose into
 * one per message type, and a failure names the field and what it should be
 * (`config.spec.process.args[2]: expected a string, got 3`). Not zod: the supervisor is a
 * long-lived process per project and zod would add about 11 MB of resident memory to it
 * (measured: a bundled zod under `node --lite-mode`, 39 → 50 MB).
 */

/** A malformed message: `path` names the field. */
export class WireShapeError extends Error {
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly got: unknown,
  ) {
    super(`${path || 'the message'}: expected ${expected}, got ${describe(got)}`);
  }
}

export type Check<T> = (v: unknown, path: string) => T;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'object') return 'an object';
  return typeof v === 'undefined' ? 'nothing' : `${typeof v} ${String(v)}`;
}

const at = (path: string, key: string | number): string => (typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key);

export const str: Check<string> = (v, p) => {
  if (typeof v !== 'string') throw new WireShapeError(p, 'a string', v);
  return v;
};

export const nonEmpty: Check<string> = (v, p) => {
  if (typeof v !== 'string' || !v) throw new WireShapeError(p, 'a non-empty string', v);
  return v;
};

export const num: Check<number> = (v, p) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new WireShapeError(p, 'a number', v);
  return v;
};

export const int: Check<number> = (v, p) => {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new WireShapeError(p, 'an integer', v);
  return v;
};

export const bool: Check<boolean> = (v, p) => {
  if (typeof v !== 'boolean') throw new WireShapeError(p, 'true or false', v);
  return v;
};

export function oneOf<T extends string | number | boolean>(...values: T[]): Check<T> {
  return (v, p) => {
    if (!values.includes(v as T)) throw new WireShapeError(p, `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`, v);
    return v as T;
  };
}

export function either<A, B>(a: Check<A>, b: Check<B>, expected: string): Check<A | B> {
  return (v, p) => {
    try {
      return a(v, p);
    } catch {
      try {
        return b(v, p);
      } catch {
        throw new WireShapeError(p, expected, v);
      }
    }
  };
}

export function nullable<T>(c: Check<T>): Check<T | null> {
  return (v, p) => (v === null ? null : c(v, p));
}

export function list<T>(item: Check<T>): Check<T[]> {
  return (v, p) => {
    if (!Array.isArray(v)) throw new WireShapeError(p, 'a list', v);
    v.forEach((x, i) => item(x, at(p, i)));
    return v as T[];
  };
}

export function record<T>(value: Check<T>): Check<Record<string, T>> {
  return (v, p) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new WireShapeError(p, 'an object', v);
    for (const [k, x] of Object.entries(v)) value(x, at(p, k));
    return v as Record<string, T>;
  };
}

type Shape = Record<string, Check<unknown>>;
/** `opt` fields may be missing (or undefined); other keys of the value pass through unchecked. */
export function obj<T>(required: Shape, opt: Shape = {}): Check<T> {
  return (v, p) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new WireShapeError(p, 'an object', v);
    const o = v as Record<string, unknown>;
    for (const [k, c] of Object.entries(required)) c(o[k], at(p, k));
    for (const [k, c] of Object.entries(opt)) if (o[k] !== undefined) c(o[k], at(p, k));
    return v as T;
  };
}

/** Anything (data the supervisor hands on unread, such as a run request's `network`). */
export const any: Check<unknown> = (v) => v;
