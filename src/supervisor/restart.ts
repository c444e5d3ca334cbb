import { TscError } from '../common/errors.js';
import type { LogOptions, RestartPolicy } from './types.js';

/** Compose's `restart:` value: "no", "always", "unless-stopped", "on-failure" or "on-failure:N". */
export function parseRestartPolicy(value: string | undefined): RestartPolicy {
  const v = (value ?? 'no').trim();
  if (v === '' || v === 'no' || v === '"no"') return { name: 'no' };
  if (v === 'always') return { name: 'always' };
  if (v === 'unless-stopped') return { name: 'unless-stopped' };
  const m = /^on-failure(?::(\d+))?$/.exec(v);
  if (m) return m[1] === undefined ? { name: 'on-failure' } : { name: 'on-failure', maxRetries: Number(m[1]) };
  throw new TscError('SPEC_INVALID', `invalid restart policy "${v}"`, {
    hint: 'use no, always, unless-stopped, on-failure or on-failure:N',
  });
}

/** "10m", "512k", "1g", "100" (bytes) → bytes, as Docker's log options take them. */
export function parseLogSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)b?$/i.exec(v.trim());
  if (!m) throw new TscError('SPEC_INVALID', `invalid log size "${v}"`, { hint: 'use a size such as 10m, 512k or 1g' });
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.floor(Number(m[1]) * mult);
}

/**
 * Compose's `logging:` → the supervisor's log options. json-file (and local, stored the same
 * way) honour max-size and max-file; none drops the output; other drivers are not available.
 */
export function logOptionsFromCompose(logging: { driver?: string; options?: Record<string, string | number> } | undefined): Partial<LogOptions> {
  if (!logging) return {};
  const driver = logging.driver ?? 'json-file';
  if (driver === 'none') return { driver: 'none' };
  if (driver !== 'json-file' && driver !== 'local') {
    throw new TscError('SPEC_UNSUPPORTED', `logging driver "${driver}" is not available in tscompose`, {
      hint: 'use json-file (the default), local or none',
    });
  }
  const out: Partial<LogOptions> = { driver: 'json-file' };
  const o = logging.options ?? {};
  if (o['max-size'] !== undefined) out.maxSize = parseLogSize(String(o['max-size']));
  if (o['max-file'] !== undefined) {
    const n = Number(o['max-file']);
    if (!Number.isInteger(n) || n < 1) throw new TscError('SPEC_INVALID', `invalid logging max-file "${o['max-file']}": use a whole number of at least 1`);
    out.maxFile = n;
  }
  return out;
}
