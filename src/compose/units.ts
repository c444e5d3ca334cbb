/**
 * Units as Compose writes them. Inside the model every duration is a number of MILLISECONDS
 * and every size a number of BYTES; these functions convert from and back to Compose's text.
 */

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * Parses a Go-style duration ("1m30s", "1.5h", "300ms", "10s") as Compose does, into
 * milliseconds. A bare number is taken as seconds (Compose accepts `stop_grace_period: 10`).
 * Returns undefined when the text is not a duration.
 */
export function parseDuration(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? input * 1000 : undefined;
  const s = input.trim();
  if (s === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s) * 1000;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let pos = 0;
  let sign = 1;
  if (s[0] === '-' || s[0] === '+') {
    if (s[0] === '-') sign = -1;
    pos = 1;
  }
  if (pos >= s.length) return undefined;
  while (pos < s.length) {
    re.lastIndex = pos;
    const m = re.exec(s);
    if (!m) return undefined;
    total += Number(m[1]) * DURATION_UNITS[m[2]];
    pos = re.lastIndex;
  }
  const ms = sign * total;
  return ms < 0 ? undefined : Math.round(ms * 1e6) / 1e6;
}

/** Formats milliseconds the way Go's time.Duration prints ("1m30s", "500ms", "0s"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) {
    if (ms >= 1) return `${trimNum(ms)}ms`;
    if (ms >= 1e-3) return `${trimNum(ms * 1000)}µs`;
    return `${trimNum(ms * 1e6)}ns`;
  }
  let rest = ms;
  let out = '';
  const h = Math.floor(rest / 3_600_000);
  if (h > 0) {
    out += `${h}h`;
    rest -= h * 3_600_000;
  }
  const m = Math.floor(rest / 60_000);
  if (h > 0 || m > 0) {
    out += `${m}m`;
    rest -= m * 60_000;
  }
  out += `${trimNum(rest / 1000)}s`;
  return out;
}

function trimNum(n: number): string {
  return String(Math.round(n * 1e9) / 1e9);
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  p: 1024 ** 5,
  pb: 1024 ** 5,
};

/**
 * Parses a byte size as Compose (docker/go-units RAMInBytes) does: "512m", "1g", "1.5GB",
 * "100k", "1024" (bytes); binary multiples, case-insensitive, an optional "b"/"ib" suffix.
 * Returns undefined when the text is not a size.
 */
export function parseBytes(input: string | number): number | undefined {
  if (typeof input === 'number') return Number.isFinite(input) ? Math.trunc(input) : undefined;
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*([kmgtp]?)(i?b)?\s*$/i.exec(input);
  if (!m) return undefined;
  const unit = (m[2] + (m[3] ? 'b' : '')).toLowerCase();
  const mult = SIZE_UNITS[unit] ?? SIZE_UNITS[m[2].toLowerCase()];
  if (mult === undefined) return undefined;
  return Math.trunc(Number(m[1]) * mult);
}

/** True when a string is a canonical integer literal ("12", "-1"). */
export function isIntString(s: string): boolean {
  return /^[-+]?\d+$/.test(s.trim());
}

/** Compose's boolean spellings (YAML 1.1 style), used to cast interpolated strings. */
export function toBoolean(s: string): boolean | undefined {
  switch (s.trim().toLowerCase()) {
    case 'y':
    case 'yes':
    case 'true':
    case 'on':
      return true;
    case 'n':
    case 'no':
    case 'false':
    case 'off':
      return false;
    default:
      return undefined;
  }
}
