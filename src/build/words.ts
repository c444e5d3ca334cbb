/**
 * Docker's word processing for Dockerfile instructions (BuildKit's shell lexer): variable
 * substitution ($VAR, ${VAR}, ${VAR:-word}, ${VAR-word}, ${VAR:+word}, ${VAR+word},
 * ${VAR:?message}), quote removal ('...' literal, "..." with substitution), and the escape
 * character (backslash, or backtick with `# escape=`). Pure: no I/O.
 */

/** A substitution that cannot be made (`${VAR:?msg}`, an unterminated `${`). */
export class WordError extends Error {}

export type Vars = ReadonlyMap<string, string>;

const SPLIT = '\u0000';
const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

class Lexer {
  private i = 0;
  constructor(
    private readonly s: string,
    private readonly vars: Vars,
    private readonly esc: string,
    /** mark whitespace of unquoted expansions with SPLIT, so processWords splits there as Docker does */
    private readonly split = false,
  ) {}

  private peek(): string {
    return this.s[this.i] ?? '';
  }

  /** Reads one word up to an unquoted character in `stops` (or the end). */
  word(stops: string): string {
    let out = '';
    while (this.i < this.s.length) {
      const c = this.s[this.i]!;
      if (stops.includes(c)) break;
      if (c === this.esc) {
        this.i++;
        if (this.i < this.s.length) out += this.s[this.i++];
        continue;
      }
      if (c === "'") {
        this.i++;
        const end = this.s.indexOf("'", this.i);
        if (end < 0) throw new WordError('unterminated single quote');
        out += this.s.slice(this.i, end);
        this.i = end + 1;
        continue;
      }
      if (c === '"') {
        this.i++;
        out += this.doubleQuoted();
        continue;
      }
      if (c === '$') {
        const v = this.dollar();
        out += this.split ? v.replace(/[ \t\n]+/g, SPLIT) : v;
        continue;
      }
      out += c;
      this.i++;
    }
    return out;
  }

  private doubleQuoted(): string {
    let out = '';
    for (;;) {
      if (this.i >= this.s.length) throw new WordError('unterminated double quote');
      const c = this.s[this.i]!;
      if (c === '"') {
        this.i++;
        return out;
      }
      if (c === this.esc) {
        const n = this.s[this.i + 1];
        if (n === '"' || n === '$' || n === this.esc) {
          out += n;
          this.i += 2;
          continue;
        }
        out += c;
        this.i++;
        continue;
      }
      if (c === '$') {
        out += this.dollar();
        continue;
      }
      out += c;
      this.i++;
    }
  }

  private dollar(): string {
    this.i++; // the $
    const c = this.peek();
    if (c === '{') {
      this.i++;
      return this.braced();
    }
    if (!NAME_START.test(c)) return '$';
    let name = '';
    while (NAME_CHAR.test(this.peek())) name += this.s[this.i++];
    return this.vars.get(name) ?? '';
  }

  private braced(): string {
    let name = '';
    while (NAME_CHAR.test(this.peek())) name += this.s[this.i++];
    if (!name) throw new WordError(`bad substitution: "\${" must be followed by a variable name`);
    let c = this.peek();
    if (c === '}') {
      this.i++;
      return this.vars.get(name) ?? '';
    }
    const colon = c === ':';
    if (colon) {
      this.i++;
      c = this.peek();
    }
    if (c !== '-' && c !== '+' && c !== '?') throw new WordError(`bad substitution in \${${name}...}: unsupported modifier "${colon ? ':' : ''}${c}"`);
    this.i++;
    const word = this.word('}');
    if (this.peek() !== '}') throw new WordError(`unterminated \${${name}...}`);
    this.i++;
    const v = this.vars.get(name);
    const set = colon ? v !== undefined && v !== '' : v !== undefined;
    if (c === '-') return set ? v! : word;
    if (c === '+') return set ? word : '';
    if (!set) throw new WordError(`${name}: ${word || 'is not set'}`);
    return v!;
  }

  skipSpaces(): void {
    while (/\s/.test(this.peek())) this.i++;
  }

  done(): boolean {
    return this.i >= this.s.length;
  }
}

/** One word: substitutions made, quotes removed, escapes resolved. */
export function processWord(s: string, vars: Vars, esc = '\\'): string {
  return new Lexer(s, vars, esc).word('');
}

/** Whitespace-separated words (quotes keep a word together), each processed as processWord. */
export function processWords(s: string, vars: Vars, esc = '\\'): string[] {
  const lx = new Lexer(s, vars, esc, true);
  const out: string[] = [];
  lx.skipSpaces();
  while (!lx.done()) {
    out.push(
      ...lx
        .word(' \t\n\r')
        .split(SPLIT)
        .filter((w, i, all) => w !== '' || all.length === 1),
    );
    lx.skipSpaces();
  }
  return out;
}

/**
 * Splits raw text into words on unquoted whitespace without processing them (quotes and
 * escapes kept), as Docker does before it splits `key=value` pairs.
 */
export function splitRaw(s: string, esc = '\\'): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = '';
  let has = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      cur += c;
      if (c === esc && quote === '"' && i + 1 < s.length) cur += s[++i];
      else if (c === quote) quote = '';
      continue;
    }
    if (/\s/.test(c)) {
      if (has) out.push(cur);
      cur = '';
      has = false;
      continue;
    }
    has = true;
    cur += c;
    if (c === esc && i + 1 < s.length) cur += s[++i];
    else if (c === '"' || c === "'") quote = c;
  }
  if (has) out.push(cur);
  return out;
}

/**
 * `KEY=value KEY2="v 2"` (or the legacy `KEY value with spaces`) as ENV, LABEL and ARG take it:
 * names and values processed, every value substituted with `vars` as they were before the
 * instruction (Docker: `ENV a=bye b=$a` gives b the previous value of a).
 */
export function parseKeyValues(s: string, vars: Vars, opts: { esc?: string; legacy?: boolean; allowBare?: boolean } = {}): Array<[string, string | undefined]> {
  const esc = opts.esc ?? '\\';
  const words = splitRaw(s, esc);
  if (words.length === 0) return [];
  const first = words[0]!;
  if (opts.legacy && !first.includes('=') && words.length > 1) {
    // ENV KEY value with spaces: the rest of the line, substituted
    const rest = s.trimStart().slice(first.length).trim();
    return [[processWord(first, vars, esc), processWord(rest, vars, esc)]];
  }
  const out: Array<[string, string | undefined]> = [];
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq < 0) {
      if (!opts.allowBare) throw new WordError(`"${w}" is not of the form KEY=value`);
      out.push([processWord(w, vars, esc), undefined]);
      continue;
    }
    const k = processWord(w.slice(0, eq), vars, esc);
    const v = processWord(w.slice(eq + 1), vars, esc);
    if (!k) throw new WordError(`"${w}" has an empty name`);
    out.push([k, v]);
  }
  return out;
}
