import { TscError } from '../common/errors.js';
import type { RestartPolicy } from './types.js';

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
