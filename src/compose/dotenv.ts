import { TscError } from '../common/errors.js';
import { readUserFile } from './user-file.js';
import { substitute, type InterpolationContext, type ResolvedVariable } from './interpolate.js';

/**
 * Parses an env file the way Compose does (.env and env_file): `KEY=VALUE` lines, optional
 * `export ` prefix, `#` comments (whole line, or after whitespace in an unquoted value),
 * single quotes (literal), double quotes (escapes \n \t \\ \" and `${VAR}` expansion, may span
 * lines), unquoted values trimmed and expanded. A value may reference keys defined on earlier
 * lines and variables of `outer` (the shell environment). A bare `KEY` line (no `=`) takes the
 * value from `outer` when set, and is otherwise left out.
 */
export function parseEnvFile(text: string, file: string, outer: (name: string) => string | undefined = () => undefined): Record<string, string> {
  const vars: Record<string, string> = {};
  const ctx: InterpolationContext = {
    lookup: (name): ResolvedVariable | undefined => {
      const o = outer(name);
      if (o !== undefined) return { value: o, source: 'shell' };
      if (Object.prototype.hasOwnProperty.call(vars, name)) return { value: vars[name], source: 'dotenv' };
      return undefined;
    },
    report: new Map(),
    warnings: [],
  };
  const src = text.replace(/\r\n?/g, '\n');
  let i = 0;
  let line = 1;
  const fail = (why: string): never => {
    throw new TscError('SPEC_INVALID', `${file}:${line}: ${why}`);
  };
  while (i < src.length) {
    // one logical line
    const nl = src.indexOf('\n', i);
    const lineEnd = nl < 0 ? src.length : nl;
    let raw = src.slice(i, lineEnd);
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) {
      i = lineEnd + 1;
      line++;
      continue;
    }
    const exportLen = /^\s*export\s+/.exec(raw)?.[0].length ?? 0;
    raw = raw.slice(exportLen);
    const m = /^\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*(=|:\s)?/.exec(raw);
    if (!m) fail(`unexpected text ${JSON.stringify(trimmed.slice(0, 40))}: expected KEY=VALUE`);
    const key = m![1];
    if (!m![2]) {
      if (raw.slice(m![0].length).trim() !== '' && !raw.slice(m![0].length).trim().startsWith('#')) {
        fail(`unexpected text after ${key}: expected KEY=VALUE`);
      }
      const o = outer(key);
      if (o !== undefined) vars[key] = o;
      i = lineEnd + 1;
      line++;
      continue;
    }
    // position of the value in src
    let p = i + exportLen + m![0].length;
    while (p < lineEnd && (src[p] === ' ' || src[p] === '\t')) p++;
    const q = src[p];
    if (q === "'" || q === '"') {
      let j = p + 1;
      let val = '';
      let closed = false;
      while (j < src.length) {
        const c = src[j];
        if (c === '\n') line++;
        if (q === '"' && c === '\\' && j + 1 < src.length) {
          const e = src[j + 1];
          val += e === 'n' ? '\n' : e === 't' ? '\t' : e === 'r' ? '\r' : e === '"' || e === '\\' ? e : e === '$' ? '$$' : `\\${e}`;
          j += 2;
          continue;
        }
        if (c === q) {
          closed = true;
          break;
        }
        val += q === "'" && c === '$' ? '$$' : c;
        j++;
      }
      if (!closed) fail(`unterminated ${q === '"' ? 'double' : 'single'}-quoted value for ${key}`);
      vars[key] = substitute(val, ctx, `${file}:${key}`);
      const end = src.indexOf('\n', j);
      i = end < 0 ? src.length : end + 1;
      line++;
      continue;
    }
    let val = src.slice(p, lineEnd);
    const hash = val.search(/\s#/);
    if (hash >= 0) val = val.slice(0, hash);
    vars[key] = substitute(val.trim(), ctx, `${file}:${key}`);
    i = lineEnd + 1;
    line++;
  }
  return vars;
}

export function readEnvFile(file: string, outer?: (name: string) => string | undefined): Record<string, string> {
  return parseEnvFile(readUserFile(file, 'env file'), file, outer);
}

/** `env_file` with `format: raw`: KEY=VALUE lines taken literally (no quotes, no expansion); # lines are comments. */
export function readRawEnvFile(file: string): Record<string, string> {
  const text = readUserFile(file, 'env file');
  const vars: Record<string, string> = {};
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new TscError('SPEC_INVALID', `${file}:${i + 1}: expected KEY=VALUE`);
    vars[line.slice(0, eq)] = line.slice(eq + 1);
  });
  return vars;
}
