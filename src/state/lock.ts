/**
 * The per-project lock. Every command that reads and then changes a project's state (or its
 * kernel objects) holds it, so two tscompose processes never interleave on one project; two
 * projects use two files and never block each other.
 *
 * It is a flock(2) on `<root>/projects/<project>/lock` (src/sys/files.ts, the one lock helper):
 * the kernel releases it when the holder exits or is killed, so a crash never leaves a stale
 * lock. The holder writes its pid, command and start time into the file so a waiting process
 * can say who it waits for.
 *
 * The holder may delete the file when it releases (`release({ remove: true })`, once `down`
 * removed the project): it is unlinked while the lock is still held, and every acquisition
 * checks that the path still names the inode it locked (src/sys/files.ts), so a process that
 * was waiting on the deleted file starts over instead of sharing the lock with a newcomer.
 */
import { type LockHolder, lockFile as takeLock, readLockHolder as readHolderFile } from '../sys/files.js';
import { lockFile, projectDir } from './paths.js';

export { describeHolder, type LockHolder } from '../sys/files.js';

export interface AcquireLockOptions {
  /** wait for the holder to release the lock (true), or fail at once with STATE_LOCKED (false) */
  wait: boolean;
  /** called once, when the lock is found held and we start waiting (holder undefined when unreadable) */
  onWait?: (holder: LockHolder | undefined) => void;
  /** give up waiting after this long with STATE_LOCKED; undefined = wait forever */
  timeoutMs?: number;
  /** stop waiting when aborted: rejects with the signal's reason when it is a TscError, else with STATE_LOCKED */
  signal?: AbortSignal;
  /** what to record as the holder's command; defaults to this process's command line */
  command?: string;
  /** poll interval while waiting (ms) */
  pollMs?: number;
}

export interface ProjectLock {
  /** the project name (or the global lock's name) */
  readonly project: string;
  readonly path: string;
  readonly holder: LockHolder;
  /**
   * Releases the lock. Safe to call twice. With `remove`, first deletes the lock file (and the
   * project folder when that leaves it empty) while still holding the lock.
   */
  release(opts?: { remove?: boolean }): void;
}

/** Reads who holds (or last held) a project's lock; undefined when the file is empty or unreadable. */
export function readLockHolder(root: string, project: string): LockHolder | undefined {
  return readHolderFile(lockFile(root, project));
}

/**
 * Takes the exclusive lock of `project` under `root`. Creates the project folder when missing.
 * With `wait: false` a held lock fails at once with STATE_LOCKED naming the holder; with
 * `wait: true` it polls until free (calling `onWait` once) or until `timeoutMs` passes.
 * The descriptor is opened close-on-exec, so child processes (the supervisor) never inherit it.
 */
export async function acquireProjectLock(root: string, project: string, opts: AcquireLockOptions): Promise<ProjectLock> {
  projectDir(root, project); // validates the name
  const lock = await takeLock(lockFile(root, project), { ...opts, what: `project "${project}"`, pollMs: opts.pollMs ?? 100 });
  return { project, path: lock.path, holder: lock.holder, release: (ro) => lock.release(ro) };
}
