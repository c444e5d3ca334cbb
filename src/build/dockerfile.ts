/**
 * A Dockerfile as the builder walks it: global ARGs, then stages (FROM ... [AS name]) each with
 * its instructions, every one carrying its 1-based line, its flags, its argument text with line
 * continuations and comments removed, its exec form (a JSON array) when written so, and its
 * here-documents. The syntax itself is read by dockerfile-ast (the parser of VS Code's Docker
 * tooling); substitution and meaning are the builder's (words.ts, steps.ts).
 */
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { TscError } from '../common/errors.js';

export interface Heredoc {
  name: string;
  content: string;
  /** `<<"EOF"` / `<<'EOF'`: no substitution in the content */
  quoted: boolean;
}

export interface Instr {
  keyword: string;
  /** 1-based line of the keyword */
  line: number;
  /** `--name=value` flags before the arguments (value null for a bare `--name`) */
  flags: Map<string, string | null>;
  /** the arguments, continuations joined */
  args: string;
  /** the arguments as written, newlines kept (a RUN with heredocs is this script) */
  raw: string;
  /** the exec form (`["a", "b"]`), when the arguments are a JSON array of strings */
  json?: string[];
  heredocs: Heredoc[];
  /** "RUN make" as written on its first line, for messages */
  text: string;
}

export interface Stage {
  index: number;
  /** `AS name`, lowercased as Docker compares it */
  name?: string;
  from: Instr;
  instrs: Instr[];
}

export interface Dockerfile {
  escape: string;
  /** ARGs before the first FROM (visible to FROM lines only, unless redeclared in a stage) */
  globalArgs: Instr[];
  stages: Stage[];
  /** file name for messages, e.g. "Dockerfile" */
  file: string;
}

function fail(file: string, line: number, msg: string, hint?: string): TscError {
  return new TscError('BUILD_FAILED', `${file}:${line}: ${msg}`, { hint });
}

function jsonForm(args: string): string[] | undefined {
  const t = args.trim();
  if (!t.startsWith('[')) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    // not JSON: the shell form, as Docker decides
  }
  return undefined;
}

/**
 * The arguments on one line, as Docker's parser makes them: an escape character ending a line
 * joins it to the next, and comment or empty lines inside the continuation are dropped.
 */
function joinContinuations(raw: string, esc: string): string {
  const lines = raw.split(/\r?\n/);
  let out = '';
  for (const [n, line] of lines.entries()) {
    if (n > 0 && (line.trimStart().startsWith('#') || line.trim() === '')) continue;
    const t = line.replace(/\s+$/, '');
    out += t.endsWith(esc) ? t.slice(0, -esc.length) : line;
  }
  return out;
}

interface WithFlags {
  getFlags(): Array<{ getName(): string; getValue(): string | null }>;
}
interface WithHeredocs {
  getHeredocs(): Array<{
    getName(): string;
    getContentRange(): { start: { line: number; character: number }; end: { line: number; character: number } } | null;
  }>;
}

function toInstr(i: Instruction, lines: string[], escapeChar: string): Instr {
  const line = i.getRange().start.line;
  const flags = new Map<string, string | null>();
  if (typeof (i as unknown as WithFlags).getFlags === 'function') {
    for (const f of (i as unknown as WithFlags).getFlags()) flags.set(f.getName(), f.getValue());
  }
  const heredocs: Heredoc[] = [];
  const raw = i.getRawArgumentsContent() ?? '';
  if (typeof (i as unknown as WithHeredocs).getHeredocs === 'function') {
    for (const h of (i as unknown as WithHeredocs).getHeredocs()) {
      const r = h.getContentRange();
      let content = '';
      if (r) {
        const parts: string[] = [];
        for (let l = r.start.line; l <= r.end.line; l++) {
          const text = lines[l] ?? '';
          parts.push(l === r.end.line ? text.slice(0, r.end.character) : text);
        }
        content = parts.join('\n') + '\n';
      }
      const name = h.getName();
      const quoted = new RegExp(`<<-?\\s*["']${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}["']`).test(raw);
      const dash = new RegExp(`<<-\\s*["']?${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`).test(raw);
      if (dash) content = content.replace(/^\t+/gm, '');
      heredocs.push({ name, content, quoted });
    }
  }
  const args = heredocs.length ? (i.getArgumentsContent() ?? '') : joinContinuations(raw, escapeChar);
  return {
    keyword: i.getKeyword(),
    line: line + 1,
    flags,
    args,
    raw,
    json: heredocs.length ? undefined : jsonForm(args),
    heredocs,
    text: (lines[line] ?? '').trim(),
  };
}

/** Parses Dockerfile text into global ARGs and stages; syntax errors name the line. */
export function parseDockerfile(text: string, file = 'Dockerfile'): Dockerfile {
  const df = DockerfileParser.parse(text);
  const lines = text.split(/\r?\n/);
  const out: Dockerfile = { escape: df.getEscapeCharacter(), globalArgs: [], stages: [], file };
  for (const i of df.getInstructions()) {
    const ins = toInstr(i, lines, out.escape);
    const kw = ins.keyword;
    if (!/^[A-Z]+$/.test(kw)) throw fail(file, ins.line, `unknown instruction "${i.getInstruction()}"`);
    if (kw === 'FROM') {
      const words = ins.args.trim().split(/\s+/).filter(Boolean);
      let name: string | undefined;
      if (words.length === 3 && words[1]!.toUpperCase() === 'AS') name = words[2]!.toLowerCase();
      else if (words.length !== 1) throw fail(file, ins.line, `FROM takes an image and an optional "AS name", got "${ins.args.trim()}"`);
      if (name !== undefined && !/^[a-z][a-z0-9._-]*$/.test(name)) throw fail(file, ins.line, `invalid stage name "${name}"`);
      if (name !== undefined && out.stages.some((s) => s.name === name)) throw fail(file, ins.line, `stage name "${name}" is used twice`);
      out.stages.push({ index: out.stages.length, name, from: ins, instrs: [] });
      continue;
    }
    const cur = out.stages[out.stages.length - 1];
    if (!cur) {
      if (kw !== 'ARG') throw fail(file, ins.line, `${kw} before the first FROM: only ARG may come before FROM`);
      out.globalArgs.push(ins);
      continue;
    }
    cur.instrs.push(ins);
  }
  if (out.stages.length === 0) throw new TscError('BUILD_FAILED', `${file}: no FROM instruction: a Dockerfile must start a stage with FROM`);
  return out;
}
