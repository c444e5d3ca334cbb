/**
 * What a stage is after each step: its layers, its runtime config and its history, as the
 * image config document will hold them. Plain JSON (the step cache stores it as is).
 */
import type { ImageConfig } from '../images/index.js';

export interface HistoryEntry {
  created: string;
  created_by: string;
  comment?: string;
  empty_layer?: boolean;
}

export type StageConfig = ImageConfig & { Shell?: string[] };

export interface StageImage {
  diffIds: string[];
  layerBlobs: string[];
  config: StageConfig;
  history: HistoryEntry[];
  os: string;
  architecture: string;
  variant?: string;
}

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The build's timestamp: SOURCE_DATE_EPOCH (a build arg, then the environment) or 0. */
export function buildEpoch(args: Record<string, string | undefined>): number {
  const v = args.SOURCE_DATE_EPOCH ?? process.env.SOURCE_DATE_EPOCH;
  const n = v !== undefined && /^\d+$/.test(v) ? Number(v) : 0;
  return n;
}

export function isoTime(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace('.000Z', 'Z');
}

/** The Env list as a map (first `=` splits). */
export function envMap(env: string[] | null | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env ?? []) {
    const i = e.indexOf('=');
    if (i > 0) m.set(e.slice(0, i), e.slice(i + 1));
  }
  return m;
}

/** Sets `k=v` in an Env list, replacing an earlier value in place. */
export function setEnv(env: string[], k: string, v: string): string[] {
  const out = env.filter((e) => !e.startsWith(`${k}=`) && e !== k);
  const at = env.findIndex((e) => e.startsWith(`${k}=`) || e === k);
  if (at >= 0 && at <= out.length) out.splice(at, 0, `${k}=${v}`);
  else out.push(`${k}=${v}`);
  return out;
}

/** A copy whose config and history can be changed without touching the original. */
export function cloneStage(s: StageImage): StageImage {
  return JSON.parse(JSON.stringify(s)) as StageImage;
}

/** Docker's duration syntax for HEALTHCHECK flags (`30s`, `1m30s`, `500ms`) in nanoseconds. */
export function parseDuration(s: string): number | undefined {
  const units: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  if (s === '0') return 0;
  let rest = s;
  let total = 0;
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * units[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return Math.round(total);
}
