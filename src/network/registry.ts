/**
 * The network registries under <root>/network/ (IP allocations, published ports, the link
 * journal) and the host-wide packet-filter record: small JSON files read and written under an
 * exclusive lock on a sibling lock file, replaced atomically, so a crash never leaves a torn
 * file (the lock and the atomic write are src/sys/files.ts's).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { TscError } from '../common/errors.js';
import { layout } from '../common/layout.js';
import { withLockSync, writeFileAtomicSync } from '../sys/files.js';

export function networkDir(root: string): string {
  return layout.network(root);
}

/** Runs `fn` holding an exclusive lock on `<file>.lock` (waits up to 10 s). */
export function withFileLock<T>(file: string, fn: () => T): T {
  return withLockSync(`${file}.lock`, { what: `the network registry ${path.basename(file)}` }, fn);
}

export function readJson<T>(file: string, empty: () => T): T {
  if (!existsSync(file)) return empty();
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (e) {
    throw new TscError('STATE_CORRUPT', `${file} is not valid JSON`, {
      cause: e,
      hint: 'remove it only if no project has networks or published ports',
    });
  }
}

/**
 * Not fsynced: these files describe kernel objects (links, addresses, rules) that a reboot
 * removes too, and the rename alone already keeps them whole; an fsync each would cost `up` of
 * 30 containers tens of them.
 */
export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomicSync(file, JSON.stringify(value, null, 2) + '\n', { mode: 0o600, durable: false });
}

/** Read-modify-write a registry file under its lock. */
export function updateRegistry<S, T>(file: string, empty: () => S, fn: (s: S) => T): T {
  return withFileLock(file, () => {
    const s = readJson(file, empty);
    const r = fn(s);
    writeJsonAtomic(file, s);
    return r;
  });
}
