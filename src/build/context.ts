/**
 * The build context as COPY and ADD see it: a directory filtered by `.dockerignore` with
 * Docker's pattern semantics (@balena/dockerignore, a port of Docker's own matcher; a
 * `<Dockerfile>.dockerignore` beside the Dockerfile takes precedence, as BuildKit does), and
 * the sources of one COPY resolved against it: literal paths or Go-style globs (`*`, `?`,
 * `[...]`), never outside the context.
 */
import { existsSync, lstatSync, readdirSync, readFileSync, type Stats } from 'node:fs';
import path from 'node:path';
import ignoreModule from '@balena/dockerignore';

export interface ContextDir {
  root: string;
  /** true when the context-relative path (posix, no leading slash) is excluded */
  ignored(rel: string): boolean;
}

/** The ignore file that applies: `<dockerfile>.dockerignore` first, then `<context>/.dockerignore`. */
export function ignoreFileFor(context: string, dockerfile?: string): string | undefined {
  if (dockerfile) {
    const beside = `${dockerfile}.dockerignore`;
    if (existsSync(beside)) return beside;
  }
  const plain = path.join(context, '.dockerignore');
  return existsSync(plain) ? plain : undefined;
}

/** Docker's reading of a .dockerignore: comments and blank lines dropped, each pattern cleaned. */
export function ignorePatterns(text: string): string[] {
  const out: string[] = [];
  for (let line of text.split(/\r?\n/)) {
    if (line.startsWith('#')) continue;
    line = line.trim();
    if (!line) continue;
    const neg = line.startsWith('!');
    let p = neg ? line.slice(1).trim() : line;
    p = path.posix.normalize(p.replace(/^\/+/, '')).replace(/^\/+|\/+$/g, '');
    if (p === '.' || p === '') continue;
    out.push(neg ? `!${p}` : p);
  }
  return out;
}

// a CommonJS module whose typings declare an ES default export: the factory is module.exports itself
const ignore = ignoreModule as unknown as typeof ignoreModule.default;

export function openContext(root: string, patterns: string[]): ContextDir {
  const ig = ignore().add(patterns);
  return { root, ignored: (rel) => rel !== '' && ig.ignores(rel) };
}

/** Whether a pattern has glob characters (Go's filepath.Match syntax). */
export const hasGlob = (p: string): boolean => /[*?[]/.test(p);

/** Go's filepath.Match for one path (no `/` matched by wildcards), as a RegExp. */
export function globRegExp(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^') || cls.startsWith('!')) cls = '^' + cls.slice(1);
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < pattern.length) re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(re + '$');
}

export interface Source {
  /** context-relative path (posix) */
  rel: string;
  abs: string;
  st: Stats;
}

/** A source path cleaned as Docker does: relative to the context root, `..` refused. */
export function cleanSource(p: string): string | undefined {
  const n = path.posix.normalize('/' + p).slice(1);
  if (n.split('/').includes('..')) return undefined;
  return n.replace(/\/$/, '');
}

function walkAll(ctx: ContextDir, rel: string, out: string[]): void {
  for (const n of readdirSync(path.join(ctx.root, rel)).sort()) {
    const r = rel ? `${rel}/${n}` : n;
    out.push(r);
    const st = lstatSync(path.join(ctx.root, r));
    if (st.isDirectory()) walkAll(ctx, r, out);
  }
}

/**
 * The context entries a COPY source names: the path itself, or every path the glob matches
 * (component by component, as Go's filepath.Glob). Ignored paths are never returned.
 */
export function resolveSources(ctx: ContextDir, pattern: string): Source[] {
  const rel = cleanSource(pattern);
  if (rel === undefined) return [];
  const mk = (r: string): Source | undefined => {
    if (ctx.ignored(r)) return undefined;
    try {
      return { rel: r, abs: path.join(ctx.root, r), st: lstatSync(path.join(ctx.root, r)) };
    } catch {
      return undefined;
    }
  };
  if (!hasGlob(rel)) {
    const s = mk(rel);
    return s ? [s] : [];
  }
  const re = globRegExp(rel);
  const all: string[] = [];
  walkAll(ctx, '', all);
  return all
    .filter((r) => r.split('/').length === rel.split('/').length && re.test(r))
    .map(mk)
    .filter((s): s is Source => !!s);
}

/** Every entry below a context directory that is not ignored, parents first, sorted. */
export function contextTree(ctx: ContextDir, rel: string): Source[] {
  const out: Source[] = [];
  const walk = (r: string): boolean => {
    let any = false;
    for (const n of readdirSync(path.join(ctx.root, r)).sort()) {
      const c = r ? `${r}/${n}` : n;
      const abs = path.join(ctx.root, c);
      const st = lstatSync(abs);
      const at = out.length;
      if (st.isDirectory()) {
        out.push({ rel: c, abs, st });
        // a directory stays when it is not ignored, or holds something re-included by `!`
        const kept = walk(c);
        if (ctx.ignored(c) && !kept) out.splice(at);
        else any = true;
        continue;
      }
      if (ctx.ignored(c)) continue;
      out.push({ rel: c, abs, st });
      any = true;
    }
    return any;
  };
  walk(rel);
  return out;
}

/** The text of the Dockerfile: inline, or read from the context (a missing file is a clear error). */
export function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
