/**
 * The subset of Go templates that `docker compose ps --format` users write: text with
 * `{{.Field}}`, `{{json .}}` and `{{json .Field}}` actions, an optional `table ` prefix (a header
 * row, columns aligned), and `\t` / `\n` escapes as the docker CLI reads them. Anything else
 * (`range`, `if`, pipes, other functions, `.Label "x"`) is refused with a FORMAT error (exit 1) rather than
 * printed wrong.
 */
import { TscError } from '../common/errors.js';
import { table } from './table.js';

type Part = { text: string } | { field: string | null; json: boolean };

export interface Template {
  table: boolean;
  parts: Part[];
}

const FIELD = /^\.([A-Za-z_][A-Za-z0-9_]*)$/;

function refuse(action: string, why: string): TscError {
  return new TscError('FORMAT', `unsupported --format template action "{{${action}}}": ${why}`, {
    hint: 'tscompose understands {{.Field}}, {{json .}} and {{json .Field}} (optionally after "table "), or --format json / table',
  });
}

/** Parses a template against the fields a row has (unknown fields are refused up front). */
export function parseTemplate(source: string, fields: readonly string[]): Template {
  let src = source.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  let isTable = false;
  if (/^table(\s|$)/.test(src)) {
    isTable = true;
    src = src.replace(/^table\s*/, '');
  }
  const parts: Part[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) {
      parts.push({ text: src.slice(i) });
      break;
    }
    if (open > i) parts.push({ text: src.slice(i, open) });
    const close = src.indexOf('}}', open + 2);
    if (close < 0) throw new TscError('FORMAT', `invalid --format template: "{{" at offset ${open} is never closed`, { hint: 'close every action with }}' });
    let action = src.slice(open + 2, close);
    // {{- x -}} trims surrounding spaces in Go; the trimming itself is not needed for one-line output
    action = action.replace(/^-\s/, '').replace(/\s-$/, '').trim();
    const words = action.split(/\s+/).filter(Boolean);
    const check = (ref: string): string | null => {
      if (ref === '.') return null;
      const m = FIELD.exec(ref);
      if (!m) throw refuse(action, `"${ref}" is not a field reference`);
      if (!fields.includes(m[1]!)) throw refuse(action, `there is no field "${m[1]}" (fields: ${fields.join(', ')})`);
      return m[1]!;
    };
    if (words.length === 1) parts.push({ field: check(words[0]!), json: false });
    else if (words.length === 2 && words[0] === 'json') parts.push({ field: check(words[1]!), json: true });
    else throw refuse(action, words[0] && !words[0].startsWith('.') ? `"${words[0]}" is not supported` : 'only one field per action');
    i = close + 2;
  }
  return { table: isTable, parts };
}

/** Go's %v for the values a row holds. */
export function goValue(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return `[${v.map(goValue).join(' ')}]`;
  if (typeof v === 'object')
    return `{${Object.values(v as Record<string, unknown>)
      .map(goValue)
      .join(' ')}}`;
  return String(v);
}

function renderOne(t: Template, row: Record<string, unknown>): string {
  return t.parts
    .map((p) => {
      if ('text' in p) return p.text;
      const v = p.field === null ? row : row[p.field];
      if (p.json) return JSON.stringify(v ?? null);
      if (p.field === null) return goValue(Object.fromEntries(Object.entries(row)));
      // Publishers is Go's nil slice when empty: %v prints it as []
      return v === null && p.field === 'Publishers' ? '[]' : goValue(v);
    })
    .join('');
}

/** Header text of a field in `table` templates (the docker CLI's names where it has one). */
const HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  LocalVolumes: 'LOCAL VOLUMES',
  ExitCode: 'EXIT CODE',
  RestartCount: 'RESTART COUNT',
};

function header(field: string | null): string {
  if (field === null) return '';
  return HEADERS[field] ?? field.toUpperCase();
}

/** Renders rows: one line (or more, with \n) per row; `table` adds a header and aligns tab-separated columns. */
export function renderTemplate(t: Template, rows: Array<Record<string, unknown>>): string {
  const lines = rows.map((r) => renderOne(t, r));
  if (!t.table) return lines.map((l) => l + '\n').join('');
  const head = t.parts.map((p) => ('text' in p ? p.text : header(p.field))).join('');
  const grid = [head, ...lines].map((l) => l.split('\t'));
  const width = Math.max(...grid.map((r) => r.length));
  return table(grid.map((r) => [...r, ...Array<string>(width - r.length).fill('')]));
}
