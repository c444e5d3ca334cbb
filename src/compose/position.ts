/** Where a value came from in a compose file: used to point errors at file:line:col. */
export interface SourcePos {
  file: string;
  line: number;
  col: number;
}

/** Path segments → the display form Compose users know: `services.web.ports[1]`. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(seg)) out += out === '' ? seg : `.${seg}`;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out;
}

/** Positions of every key and item of one parsed file, by formatted path. */
export class SourceMap {
  private readonly map = new Map<string, SourcePos>();
  constructor(readonly file: string) {}

  set(path: readonly (string | number)[], line: number, col: number): void {
    const k = formatPath(path);
    if (!this.map.has(k)) this.map.set(k, { file: this.file, line, col });
  }

  /** The position of the path, or of its nearest ancestor that has one. */
  find(path: readonly (string | number)[]): SourcePos | undefined {
    for (let n = path.length; n >= 0; n--) {
      const hit = this.map.get(formatPath(path.slice(0, n)));
      if (hit) return hit;
    }
    return undefined;
  }

  get(path: readonly (string | number)[]): SourcePos | undefined {
    return this.map.get(formatPath(path));
  }
}

/** Levenshtein distance, for "did you mean" suggestions. */
function editDistance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}

/** The nearest candidate to `word`, when it is close enough to be a plausible typo. */
export function nearest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(2, Math.floor(Math.max(word.length, best.length) / 3));
  return bestD <= limit ? best : undefined;
}
