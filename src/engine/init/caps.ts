/** Capability names → the kernel's bit mask, for the init and exec stages' capability sets. */
import { CAPABILITY_NAMES as CAP_NAMES } from '../spec.js';
import { StepError } from './step.js';

/** Capability names (with or without CAP_, or ALL) → bit mask. Unknown names are an error. */
export function capMask(names: readonly string[]): bigint {
  let m = 0n;
  for (const raw of names) {
    const n = raw.toUpperCase().replace(/^CAP_/, '');
    if (n === 'ALL') {
      for (let i = 0; i < CAP_NAMES.length; i++) m |= 1n << BigInt(i);
      continue;
    }
    const i = CAP_NAMES.indexOf(n);
    if (i < 0) throw new StepError('capabilities', `unknown capability "${raw}"`);
    m |= 1n << BigInt(i);
  }
  return m;
}
