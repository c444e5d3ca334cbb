/**
 * The network registries under <root>/network/ (IP allocations, published ports): small JSON
 * files read and written under an exclusive flock on a sibling lock file, written atomically
 * (temp file + rename) so a crash never leaves a torn file.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TscError } from '../common/errors.js';
import { koffi } from '../sys/libc.js';
import { LOCK_EX, LOCK_NB, LOCK_UN, nsys } from '../sys/netlink-ns.js';

export function networkDir(root: string): string {
  return path.join(path.resolve(root), 'network');
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Runs `fn` holding an exclusive lock on `<file>.lock` (waits up to 10 s). */
export function withFileLock<T>(file: string, fn: () => T): T {
  mkdirSync(path.dirname(file), { recursive: true });
  const lockPath = `${file}.lock`;
  const fd = openSync(lockPath, 'a', 0o600);
  try {
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (nsys.flock(fd, LOCK_EX | LOCK_NB) === 0) break;
      const e = koffi.errno();
      if (e !== 11 && e !== 4) throw new TscError('STATE_LOCKED', `locking ${lockPath} failed (errno ${e})`);
      if (Date.now() > deadline) {
        throw new TscError('STATE_LOCKED', `${lockPath} stayed locked for 10 s`, {
          hint: 'another tscompose command is changing the network state; retry when it is done',
        });
      }
      Atomics.wait(sleeper, 0, 0, 20);
    }
    try {
      return fn();
    } finally {
      nsys.flock(fd, LOCK_UN);
    }
  } finally {
    closeSync(fd);
  }
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

export function writeJsonAtomic(file: string, value: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, file);
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
