import { Alias, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';

import { TscError } from '../common/errors.js';
import type { Path } from './canonical-values.js';
import { LIMITS, spend, type NodeBudget } from './limits.js';
import { formatPath, nearest, SourceMap } from './position.js';

/** A value carrying Compose's `!reset` or `!override` YAML tag, resolved during merge. */
export class Tagged {
  constructor(
    readonly tag: 'reset' | 'override',
    readonly value: unknown,
  ) {}
}

export interface ParsedFile {
  file: string;
  data: Record<string, unknown>;
  positions: SourceMap;
}

/**
 * Parses one compose file's text into plain values (mappings → objects, sequences → arrays),
 * resolving anchors, aliases and `<<` merge keys, keeping `!reset`/`!override` as Tagged and
 * recording the line and column of every key and item. Bounded: at most LIMITS.depth levels of
 * nesting and LIMITS.nodes values after expansion (counted in `budget`, shared by the files
 * of one load), so an alias bomb ("billion laughs", `<<` doubling) is an error, not a hang.
 */
export function parseComposeYaml(text: string, file: string, budget: NodeBudget = { nodes: 0 }): ParsedFile {
  const lc = new LineCounter();
  const tooDeep = (line?: number, col?: number): TscError =>
    new TscError('SPEC_PARSE', `${file}${line ? `:${line}:${col}` : ''}: the YAML nests mappings and sequences deeper than ${LIMITS.depth} levels`, {
      hint: 'no Compose file needs that many levels; flatten the structure',
    });
  let doc: ReturnType<typeof parseDocument>;
  try {
    // duplicate keys are found below, in linear time (the library's own check is quadratic in a mapping's size)
    doc = parseDocument(text, { lineCounter: lc, keepSourceTokens: false, uniqueKeys: false, prettyErrors: false, merge: false });
  } catch (e) {
    if (e instanceof RangeError) throw tooDeep();
    throw e;
  }
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const p = lc.linePos(e.pos[0]);
    let msg = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    if (/call stack/i.test(msg)) throw tooDeep(p.line, p.col);
    if (/multiple documents/.test(msg)) msg = 'a compose file holds one YAML document, this one has several (separated by ---)';
    throw new TscError('SPEC_PARSE', `${file}:${p.line}:${p.col}: invalid YAML: ${msg}`);
  }
  const positions = new SourceMap(file);
  const mark = (path: Path, node: { range?: [number, number, number] | null } | null | undefined): void => {
    if (node?.range) {
      const p = lc.linePos(node.range[0]);
      positions.set(path, p.line, p.col);
    }
  };

  const at = (node: unknown): string => {
    const r = (node as { range?: [number, number, number] | null } | null)?.range;
    if (!r) return file;
    const p = lc.linePos(r[0]);
    return `${file}:${p.line}:${p.col}`;
  };
  const count = (n: number, node: unknown): void => spend(budget, n, at(node), 'YAML anchors, aliases and merge keys (<<) are expanded');
  // each alias node is resolved once (resolving walks the document)
  const targets = new Map<Alias, Node | undefined>();
  const seen = new Set<Node>();
  const convert = (node: unknown, path: Path): unknown => {
    if (node === null || node === undefined) return null;
    count(1, node);
    if (path.length > LIMITS.depth) {
      const r = (node as { range?: [number, number, number] | null }).range;
      const p = r ? lc.linePos(r[0]) : undefined;
      throw tooDeep(p?.line, p?.col);
    }
    if (isAlias(node)) {
      if (!targets.has(node)) targets.set(node, (node as Alias).resolve(doc) as Node | undefined);
      const target = targets.get(node);
      if (!target) throw new TscError('SPEC_PARSE', `${at(node)}: unknown YAML alias *${(node as Alias).source}`);
      if (seen.has(target as Node)) throw new TscError('SPEC_PARSE', `${at(node)}: YAML alias *${(node as Alias).source} refers to itself`);
      seen.add(target as Node);
      try {
        return convert(target, path);
      } finally {
        seen.delete(target as Node);
      }
    }
    let value: unknown;
    const tag = (node as { tag?: string }).tag;
    if (isScalar(node)) {
      value = node.value;
      if (typeof value === 'string' && value.includes('\0')) {
        throw new TscError('SPEC_PARSE', `${at(node)}: ${formatPath(path) || '(top level)'}: a NUL character in a value`, {
          hint: 'no command line, environment variable or path can hold one',
        });
      }
      if (typeof value === 'bigint') value = Number(value);
      if (value instanceof Date) value = node.source ?? String(value);
    } else if (isSeq(node)) {
      value = node.items.map((item, i) => {
        mark([...path, i], item as Node);
        return convert(item, [...path, i]);
      });
    } else if (isMap(node)) {
      const out: Record<string, unknown> = {};
      const merged: Record<string, unknown>[] = [];
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyNode = pair.key as Node | null;
        const rawKey = isScalar(keyNode) ? keyNode.value : keyNode;
        if (rawKey === '<<' && !(isScalar(keyNode) && keyNode.type !== 'PLAIN')) {
          const v = convert(pair.value, path);
          for (const m of Array.isArray(v) ? v : [v]) {
            if (m && typeof m === 'object' && !Array.isArray(m)) merged.push(m as Record<string, unknown>);
            else throw new TscError('SPEC_PARSE', `${at(keyNode)}: a YAML merge key (<<) must refer to a mapping or a list of mappings`);
          }
          continue;
        }
        if (rawKey !== null && typeof rawKey === 'object') {
          const p = keyNode?.range ? lc.linePos(keyNode.range[0]) : undefined;
          throw new TscError('SPEC_PARSE', `${file}${p ? `:${p.line}:${p.col}` : ''}: a mapping key must be a scalar`);
        }
        const key = rawKey === null ? 'null' : String(rawKey);
        if (key === '__proto__') {
          throw new TscError('SPEC_PARSE', `${at(keyNode)}: ${formatPath([...path, key])}: the key __proto__ is not accepted`, {
            hint: 'no Compose key, service, variable or label has that name; rename it',
          });
        }
        if (Object.hasOwn(out, key)) throw new TscError('SPEC_PARSE', `${at(keyNode)}: invalid YAML: a key appears twice in the same mapping`);
        mark([...path, key], keyNode as Node);
        out[key] = convert(pair.value, [...path, key]);
      }
      if (merged.length > 0) {
        // Keys written in the mapping win over keys brought in by `<<`; among merge sources the
        // first listed wins (YAML merge key semantics).
        const ordered: Record<string, unknown> = {};
        for (const m of merged) {
          count(Object.keys(m).length, node);
          for (const [k, v] of Object.entries(m)) if (!Object.hasOwn(ordered, k) && !Object.hasOwn(out, k)) ordered[k] = v;
        }
        value = { ...ordered, ...out };
      } else {
        value = out;
      }
    } else {
      value = null;
    }
    if (tag === '!reset') return new Tagged('reset', value);
    if (tag === '!override') return new Tagged('override', value);
    if (tag !== undefined && !tag.startsWith('tag:yaml.org,2002:')) {
      const r = (node as { range?: [number, number, number] | null }).range;
      const pos = r ? lc.linePos(r[0]) : undefined;
      const near = nearest(tag, ['!reset', '!override']);
      throw new TscError('SPEC_PARSE', `${file}${pos ? `:${pos.line}:${pos.col}` : ''}: unknown YAML tag ${tag}`, {
        hint: near ? `did you mean ${near}?` : 'Compose files know only the !reset and !override tags',
      });
    }
    return value;
  };

  mark([], doc.contents as Node);
  const data = convert(doc.contents, []);
  if (data === null) return { file, data: {}, positions };
  if (typeof data !== 'object' || Array.isArray(data) || data instanceof Tagged) {
    throw new TscError('SPEC_PARSE', `${file}:1:1: a compose file must be a mapping at the top level`);
  }
  return { file, data: data as Record<string, unknown>, positions };
}
