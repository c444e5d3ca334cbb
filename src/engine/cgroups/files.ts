/** Reading and writing a cgroup's files, with errors that name the cgroup and the file. */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TscError } from '../../common/errors.js';

export function cgErr(msg: string, cause?: unknown, hint?: string): TscError {
  return new TscError('ENGINE_CGROUP', msg, { cause, hint });
}

export function readOr(file: string, fallback = ''): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

/** Writes `value` to `file` in `dir`, one of the directories of `cg`. */
export function writeFile(cg: { relPath: string }, dir: string, file: string, value: string | number): void {
  const f = path.join(dir, file);
  try {
    writeFileSync(f, String(value));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw cgErr(
      `cgroup ${cg.relPath}: cannot write "${value}" to ${f}: ${err.code ?? err.message}`,
      e,
      err.code === 'EINVAL' || err.code === 'EBUSY' ? 'the value is out of range for this kernel or below current usage' : undefined,
    );
  }
}
