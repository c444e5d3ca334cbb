/**
 * The per-project lock. Every command that reads and then changes a project's state (or its
 * kernel objects) holds it, so two tscompose processes never interleave on one project; two
 * projects use two files and never block each other.
 *
 * It is a flock(2) on `<root>/projects/<project>/lock`: the kernel releases it when the holder
 * exits or is killed, so a crash never leaves a stale lock. The holder writes its pid, command
 * and start time into the file so a waiting process can say who it waits for.
 *
 * The holder may delete the file when it releases (`release({ remove: true })`, after `down`
 * removed the project): it unlinks it while still holding the lock. A process that was waiting
 * on the old file then holds a lock on an inode nobody else can find, so after every acquisition
 * the acquirer checks that the path still names the inode it locked, and starts over when not.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TscError } from '../common/errors.js';
import { tryLockExclusive, unlock } from '../sys/flock.js';
import { lockFile, projectDir } from './paths.js';

export interface LockHolder {
  pid: number;
  /** the command line of the holder, e.g. "tscompose up -d" */
  command: string;
  /** ISO time the lock was taken */
  since: string;
  hostname?: string;
}

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

function defaultCommand(): string {
  const argv = process.argv.slice(1);
  if (argv.length === 0) return path.basename(process.argv[0] ?? 'node');
  const script = path.basename(argv[0]!).replace(/\.(js|ts|mjs)$/, '');
  return [script === 'main' || script === 'tscompose' ? 'tscompose' : script, ...argv.slice(1)].join(' ');
}

/** Reads who holds (or last held) a project's lock; undefined when the file is empty or unreadable. */
export function readLockHolder(root: string, project: string): LockHolder | undefined {
  return readHolderFile(lockFile(root, project));
}

function readHolderFile(file: string): LockHolder | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  return parseHolder(text);
}

function parseHolder(text: string): LockHolder | undefined {
  if (!text.trim()) return undefined;
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    if (typeof v.pid !== 'number' || typeof v.command !== 'string' || typeof v.since !== 'string') return undefined;
    return { pid: v.pid, command: v.command, since: v.since, hostname: typeof v.hostname === 'string' ? v.hostname : undefined };
  } catch {
    return undefined;
  }
}

export function describeHolder(holder: LockHolder | undefined): string {
  if (!holder) return 'another tscompose process';
  return `pid ${holder.pid} (${holder.command}), since ${holder.since}`;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Takes the exclusive lock of `project` under `root`. Creates the project folder when missing.
 * With `wait: false` a held lock fails at once with STATE_LOCKED naming the holder; with
 * `wait: true` it polls until free (calling `onWait` once) or until `timeoutMs` passes.
 * The descriptor is opened close-on-exec, so child processes (the supervisor) never inherit it.
 */
export async function acquireProjectLock(root: string, project: string, opts: AcquireLockOptions): Promise<ProjectLock> {
  const dir = projectDir(root, project);
  return acquireLockFile(dir, lockFile(root, project), `project "${project}"`, project, opts);
}

/**
 * A machine-wide lock under `<root>/locks/<name>.lock`, for short critical sections that span
 * projects (choosing a free subnet, claiming a host port): held only around the check-and-record
 * step, never for a whole command, so projects still do not wait on each other's work.
 */
export async function acquireGlobalLock(root: string, name: string, opts: AcquireLockOptions): Promise<ProjectLock> {
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) throw new TscError('INTERNAL', `invalid lock name "${name}"`);
  const dir = path.join(root, 'locks');
  return acquireLockFile(dir, path.join(dir, `${name}.lock`), `the "${name}" lock`, name, opts);
}

/** Who holds (or last held) a global lock. */
export function readGlobalLockHolder(root: string, name: string): LockHolder | undefined {
  return readHolderFile(path.join(root, 'locks', `${name}.lock`));
}

/** Whether `file` still names the inode open as `fd` (a holder may have unlinked it meanwhile). */
function stillLinked(fd: number, file: string): boolean {
  try {
    const a = fs.fstatSync(fd);
    const b = fs.statSync(file);
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}

async function acquireLockFile(dir: string, file: string, what: string, key: string, opts: AcquireLockOptions): Promise<ProjectLock> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    const remaining = opts.timeoutMs === undefined ? undefined : Math.max(0, opts.timeoutMs - (Date.now() - started));
    const lock = await acquireOnce(dir, file, what, key, { ...opts, timeoutMs: remaining });
    if (lock) return lock;
    if (attempt > 1000) throw new TscError('STATE_LOCKED', `cannot lock ${what}: its lock file ${file} keeps being replaced`);
  }
}

/** One try on the file as it is now: undefined when it was unlinked before we got the lock. */
async function acquireOnce(dir: string, file: string, what: string, key: string, opts: AcquireLockOptions): Promise<ProjectLock | undefined> {
  let fd: number;
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  } catch (e) {
    // the folder was removed between mkdir and open by a holder releasing with remove: again
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TscError('STATE_LOCKED', `cannot open the lock file ${file} of ${what}: ${(e as Error).message}`, {
      cause: e,
      hint: 'tscompose needs write access to its state root (run as root, or set TSCOMPOSE_ROOT)',
    });
  }
  try {
    const context = `locking ${what} (${file})`;
    if (!tryLockExclusive(fd, context)) {
      const started = Date.now();
      let holder = readHolderFile(file);
      if (!opts.wait) {
        throw new TscError('STATE_LOCKED', `${what} is locked by ${describeHolder(holder)}`, {
          hint: 'wait for that command to finish, then run again (or let this command wait for the lock)',
        });
      }
      let announced = false;
      let polls = 0;
      const pollMs = opts.pollMs ?? 100;
      for (;;) {
        if (!announced && (holder || polls >= 5)) {
          announced = true;
          opts.onWait?.(holder);
        }
        if (opts.timeoutMs !== undefined && Date.now() - started >= opts.timeoutMs) {
          throw new TscError('STATE_LOCKED', `timed out after ${Math.round(opts.timeoutMs / 100) / 10}s waiting for the lock of ${what}, held by ${describeHolder(holder)}`, {
            hint: 'wait for that command to finish, or stop it, then run again',
          });
        }
        let delay = pollMs;
        if (opts.timeoutMs !== undefined) delay = Math.max(1, Math.min(delay, opts.timeoutMs - (Date.now() - started)));
        try {
          await sleep(delay, opts.signal);
        } catch (reason) {
          if (reason instanceof TscError) throw reason;
          throw new TscError('STATE_LOCKED', `stopped waiting for the lock of ${what}, held by ${describeHolder(holder)}`, { cause: reason });
        }
        if (tryLockExclusive(fd, context)) break;
        polls++;
        holder = readHolderFile(file) ?? holder;
      }
    }
    if (!stillLinked(fd, file)) {
      unlock(fd, context);
      fs.closeSync(fd);
      return undefined;
    }
    const me: LockHolder = { pid: process.pid, command: opts.command ?? defaultCommand(), since: new Date().toISOString(), hostname: os.hostname() };
    const buf = Buffer.from(JSON.stringify(me) + '\n');
    fs.ftruncateSync(fd, 0);
    fs.writeSync(fd, buf, 0, buf.length, 0);
    let released = false;
    return {
      project: key,
      path: file,
      holder: me,
      release(ro?: { remove?: boolean }): void {
        if (released) return;
        released = true;
        try {
          fs.ftruncateSync(fd, 0);
          if (ro?.remove) {
            fs.rmSync(file, { force: true });
            try {
              fs.rmdirSync(dir); // only when empty
            } catch {
              /* not empty (or gone): leave it */
            }
          }
          unlock(fd, context);
        } finally {
          fs.closeSync(fd);
        }
      },
    };
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

/** Runs `fn` while holding the project lock; releases it afterwards, whatever happens. */
export async function withProjectLock<T>(root: string, project: string, opts: AcquireLockOptions, fn: (lock: ProjectLock) => Promise<T>): Promise<T> {
  const lock = await acquireProjectLock(root, project, opts);
  try {
    return await fn(lock);
  } finally {
    lock.release();
  }
}
