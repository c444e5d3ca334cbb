/**
 * Files the way the kernel makes them safe: atomic replacement and flock(2) lock files. The one
 * implementation used by state, images, network and the supervisor.
 *
 * - `writeFileAtomic` / `writeFileAtomicSync`: the data goes to a temp file in the same folder
 *   (`.<name>.<pid>.<random>.tmp`), is fsynced, renamed over the target and the folder is
 *   fsynced, so a reader sees the old or the new content and a crash never leaves a torn or an
 *   empty file. `durable: false` skips both fsyncs for files that are rebuilt anyway.
 * - `lockFileSync` / `lockFile`: an exclusive flock on a lock file, waiting (polling, EINTR
 *   retried) up to a deadline. The kernel releases it when the holder exits or is killed, so a
 *   crash never leaves a stale lock. The holder writes its pid and command into the file so a
 *   waiter can say whom it waits for. A holder may delete the file as it releases
 *   (`release({ remove: true })`, while still holding it); every acquisition checks that the path
 *   still names the inode it locked, and starts over when not, so a waiter on a deleted file
 *   never shares the lock with a newcomer.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TscError } from '../common/errors.js';
import { faultPoint, faultWrite } from './fault.js';
import { tryLockExclusive, unlock } from './flock.js';

export interface AtomicWriteOptions {
  /** file mode of a new file (default 0o644) */
  mode?: number;
  /** fsync the file and its folder (default true) */
  durable?: boolean;
}

function tempName(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

/** A full disk (or quota) as the product error naming the file; any other error as it is. */
function writeError(e: unknown, file: string): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return e;
  return new TscError('DISK_FULL', `writing ${file}: no space left on the device`, { cause: e, hint: 'free some space; the file is unchanged' });
}

function fsyncDirSync(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Replaces `file` with `data` atomically (see the module comment). Creates the folder. */
export function writeFileAtomicSync(file: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): void {
  const durable = opts.durable ?? true;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = tempName(file);
  try {
    const fd = fs.openSync(tmp, 'wx', opts.mode ?? 0o644);
    try {
      faultWrite(file);
      fs.writeFileSync(fd, data);
      if (durable) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw writeError(e, file);
  }
  if (durable) fsyncDirSync(path.dirname(file));
  faultPoint(`write ${file}`);
}

/** The asynchronous writeFileAtomicSync. */
export async function writeFileAtomic(file: string, data: string | Uint8Array, opts: AtomicWriteOptions = {}): Promise<void> {
  const durable = opts.durable ?? true;
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const tmp = tempName(file);
  try {
    const fh = await fsp.open(tmp, 'wx', opts.mode ?? 0o644);
    try {
      faultWrite(file);
      await fh.writeFile(data);
      if (durable) await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, file);
  } catch (e) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw writeError(e, file);
  }
  if (durable) {
    const dh = await fsp.open(path.dirname(file), 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }
  faultPoint(`write ${file}`);
}

/** Whether `name` is a temp file of writeFileAtomic for `base`, and which pid made it. */
export function atomicTempOf(name: string, base: string): number | undefined {
  const prefix = `.${base}.`;
  if (!name.startsWith(prefix) || !name.endsWith('.tmp')) return undefined;
  const m = /^(\d+)\.[0-9a-f]+\.tmp$/.exec(name.slice(prefix.length));
  return m ? Number(m[1]) : undefined;
}

export interface LockHolder {
  pid: number;
  /** the holder's command line, e.g. "tscompose up -d" */
  command: string;
  /** ISO time the lock was taken */
  since: string;
  hostname?: string;
}

export interface HeldLock {
  readonly path: string;
  readonly holder: LockHolder;
  /**
   * Releases the lock. Safe to call twice. The file stays, unless `remove`: then it is unlinked
   * (and its folder removed when that leaves it empty) while the lock is still held; a process
   * waiting on it notices that it locked a deleted file and starts over on the path.
   */
  release(opts?: { remove?: boolean }): void;
}

export interface LockOptions {
  /** what the lock protects, for messages: `project "demo"`, "the image index" */
  what: string;
  /** false: fail at once with STATE_LOCKED when held (default true) */
  wait?: boolean;
  /** give up waiting after this long with STATE_LOCKED; undefined = 10 s for lockFileSync, forever for lockFile */
  timeoutMs?: number;
  /** called once, when the lock is found held and we start waiting (holder undefined when unreadable) */
  onWait?: (holder: LockHolder | undefined) => void;
  /** lockFile only: stop waiting when aborted (rejects with the reason when it is a TscError) */
  signal?: AbortSignal;
  /** the holder's command to record (default: this process's command line) */
  command?: string;
  /** poll interval while waiting (default 20 ms) */
  pollMs?: number;
}

export function describeHolder(holder: LockHolder | undefined): string {
  return holder ? `pid ${holder.pid} (${holder.command}), since ${holder.since}` : 'another tscompose process';
}

export function readLockHolder(file: string): LockHolder | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  if (!text.trim()) return undefined;
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    if (typeof v.pid !== 'number' || typeof v.command !== 'string' || typeof v.since !== 'string') return undefined;
    return { pid: v.pid, command: v.command, since: v.since, hostname: typeof v.hostname === 'string' ? v.hostname : undefined };
  } catch {
    return undefined;
  }
}

function defaultCommand(): string {
  const argv = process.argv.slice(1);
  if (argv.length === 0) return path.basename(process.argv[0] ?? 'node');
  const script = path.basename(argv[0]!).replace(/\.(js|ts|mjs|cjs)$/, '');
  return [script === 'main' || script === 'tscompose' || script === 'cli' ? 'tscompose' : script, ...argv.slice(1)].join(' ');
}

/** -1: the folder vanished between mkdir and open (a holder releasing with `remove`): try again. */
function openLock(file: string, what: string): number {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    return fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return -1;
    throw new TscError('STATE_LOCKED', `cannot open the lock file ${file} of ${what}: ${(e as Error).message}`, {
      cause: e,
      hint: 'tscompose needs write access to its state root (run as root, or set TSCOMPOSE_ROOT)',
    });
  }
}

/** Whether `file` still names the inode locked through `fd` (the holder may have unlinked it). */
function stillLinked(fd: number, file: string): boolean {
  try {
    const a = fs.fstatSync(fd);
    const b = fs.statSync(file);
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}

/** The lock just taken on `fd`, or undefined (fd closed) when its file was unlinked meanwhile. */
function heldIfLinked(fd: number, file: string, context: string, command: string): HeldLock | undefined {
  if (stillLinked(fd, file)) return held(fd, file, context, command);
  unlock(fd, context);
  fs.closeSync(fd);
  return undefined;
}

function held(fd: number, file: string, context: string, command: string): HeldLock {
  const me: LockHolder = { pid: process.pid, command, since: new Date().toISOString(), hostname: os.hostname() };
  const buf = Buffer.from(JSON.stringify(me) + '\n');
  fs.ftruncateSync(fd, 0);
  fs.writeSync(fd, buf, 0, buf.length, 0);
  let released = false;
  return {
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
            fs.rmdirSync(path.dirname(file)); // only when empty
          } catch {
            /* not empty, or gone: leave it */
          }
        }
        unlock(fd, context);
      } finally {
        fs.closeSync(fd);
      }
    },
  };
}

/**
 * The waiting policy shared by both variants: `attempt` is tried until it succeeds, the deadline
 * passes or the caller gives up; `pause` waits between tries (blocking or not).
 */
class Waiter {
  private readonly started = Date.now();
  private announced = false;
  private polls = 0;
  holder: LockHolder | undefined;
  constructor(
    private readonly file: string,
    private readonly o: LockOptions,
    private readonly timeoutMs: number | undefined,
  ) {
    this.holder = readLockHolder(file);
    if (o.wait === false) {
      throw new TscError('STATE_LOCKED', `${o.what} is locked by ${describeHolder(this.holder)}`, {
        hint: 'wait for that command to finish, then run again (or let this command wait for the lock)',
      });
    }
  }
  /** the next pause in ms; throws when the time is up */
  next(): number {
    if (!this.announced && (this.holder || this.polls >= 5)) {
      this.announced = true;
      this.o.onWait?.(this.holder);
    }
    const spent = Date.now() - this.started;
    if (this.timeoutMs !== undefined && spent >= this.timeoutMs) {
      throw new TscError(
        'STATE_LOCKED',
        `timed out after ${Math.round(this.timeoutMs / 100) / 10}s waiting for the lock of ${this.o.what}, held by ${describeHolder(this.holder)}`,
        {
          hint: 'wait for that command to finish, or stop it, then run again',
        },
      );
    }
    const pause = this.o.pollMs ?? 20;
    return this.timeoutMs === undefined ? pause : Math.max(1, Math.min(pause, this.timeoutMs - spent));
  }
  failed(): void {
    this.polls++;
    this.holder = readLockHolder(this.file) ?? this.holder;
  }
  stopped(reason: unknown): TscError {
    if (reason instanceof TscError) return reason;
    return new TscError('STATE_LOCKED', `stopped waiting for the lock of ${this.o.what}, held by ${describeHolder(this.holder)}`, { cause: reason });
  }
}

/**
 * Taking the lock, once for both variants: yields each pause to wait before the next try (the
 * caller waits, blocking or not, and throws the reason into it when it stops waiting) and
 * returns the lock. A lock taken on a file that was unlinked meanwhile is let go and the path
 * tried again; `timeoutMs` (else `defaultTimeout`) spans all the tries.
 */
function* locking(file: string, o: LockOptions, defaultTimeout: number | undefined): Generator<number, HeldLock, void> {
  const started = Date.now();
  const total = o.timeoutMs ?? defaultTimeout;
  for (let attempt = 0; ; attempt++) {
    const timeoutMs = total === undefined ? undefined : Math.max(1, total - (Date.now() - started));
    const got = yield* lockingOnce(file, { ...o, timeoutMs });
    if (got) return got;
    if (attempt >= 1000) throw new TscError('STATE_LOCKED', `cannot lock ${o.what}: its lock file keeps being removed`);
  }
}

function* lockingOnce(file: string, o: LockOptions): Generator<number, HeldLock | undefined, void> {
  const fd = openLock(file, o.what);
  if (fd < 0) return undefined;
  const context = `locking ${o.what} (${file})`;
  try {
    if (!tryLockExclusive(fd, context)) {
      const w = new Waiter(file, o, o.timeoutMs);
      for (;;) {
        try {
          yield w.next();
        } catch (reason) {
          throw w.stopped(reason);
        }
        if (tryLockExclusive(fd, context)) break;
        w.failed();
      }
    }
    return heldIfLinked(fd, file, context, o.command ?? defaultCommand());
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Takes the lock, blocking the thread while it waits (for short critical sections in synchronous code). */
export function lockFileSync(file: string, o: LockOptions): HeldLock {
  const steps = locking(file, o, 10_000);
  for (let step = steps.next(); ; step = steps.next()) {
    if (step.done) return step.value;
    Atomics.wait(sleeper, 0, 0, step.value);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Takes the lock, waiting on the event loop. The descriptor is close-on-exec (children never inherit it). */
export async function lockFile(file: string, o: LockOptions): Promise<HeldLock> {
  const steps = locking(file, o, undefined);
  for (let step = steps.next(); ;) {
    if (step.done) return step.value;
    try {
      await sleep(step.value, o.signal);
    } catch (reason) {
      step = steps.throw(reason);
      continue;
    }
    step = steps.next();
  }
}

/** Runs `fn` holding the lock (lockFileSync). */
export function withLockSync<T>(file: string, o: LockOptions, fn: () => T): T {
  const lock = lockFileSync(file, o);
  try {
    return fn();
  } finally {
    lock.release();
  }
}

/** Runs `fn` holding the lock (lockFile). */
export async function withLock<T>(file: string, o: LockOptions, fn: () => Promise<T>): Promise<T> {
  const lock = await lockFile(file, o);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}
