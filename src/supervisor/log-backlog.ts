/**
 * A container's stored log as a logs request reads it: json-file lines as the files hold them,
 * in pieces of about 64 KiB, so that the supervisor sends a 30 MB log without making an object
 * per line at once, and can answer other requests between pieces. A follower that fell behind
 * reads on the same way from where it was (an open file and an offset), following the files
 * through rotation, until it has caught up with the live file.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { logFiles, rfc3339ToNs, type ReadLogOptions } from './logs.js';
import type { LogEntry } from './types.js';

/**
 * What one piece reads: a hundred followers on one connection (logs -f of a hundred services)
 * that all fell behind each have one piece in its buffer at a time, a few MiB in all.
 */
const PIECE = 64 * 1024;
/** the longest json-file line read as one (16 KiB of output escaped as \u00XX is about 100 KiB) */
const LONGEST = 1024 * 1024;

/** Pieces of a log, oldest first; call `close` when not reading to the end. */
export interface LogReader {
  pieces: Iterable<string>;
  close(): void;
}

/**
 * Where a follower reads on once the files it started with are read: the live file's name and
 * max-file (which name the rotated files), and what to call, in the same synchronous block as
 * the read that found the live file's end, once there is nothing left to read.
 */
export interface FollowOn {
  file: string;
  maxFile: number;
  caughtUp(): void;
}

/** One open log file: its fd follows it through rotation's renames; `end` Infinity: to its end. */
interface Place {
  fd: number;
  at: number;
  end: number;
}

/**
 * The log files as they are now (opened at once: a rotation while the pieces are read changes
 * nothing), oldest first, as pieces of whole json-file lines: the last `tail` lines only, or
 * those at or after `sinceNs`. A line that is not a log entry (cut by a crash mid-write) is left
 * out. With `follow`, the live file is read on past its present end, then the files written
 * after it (followFrom).
 */
export function openBacklog(file: string, maxFile: number, opts: ReadLogOptions = {}, follow?: FollowOn): LogReader {
  const fds: number[] = [];
  for (const f of logFiles(file, maxFile)) {
    try {
      fds.push(openSync(f, 'r'));
    } catch {
      /* rotated away meanwhile */
    }
  }
  const sizes = fds.map((fd) => fstatSync(fd).size);
  let [first, at] = [0, 0];
  if (opts.tail !== undefined && opts.tail >= 0) [first, at] = tailStart(fds, sizes, opts.tail);
  const places = fds.map((fd, i) => ({ fd, at: i === first ? at : 0, end: sizes[i] }));
  const skipped = places.splice(0, first);
  // a follower reads on from the live file (logFiles names it last), from its end at least
  const live = follow && fds.length > 0 && isLive(follow.file, fds.at(-1)!) ? fds.at(-1)! : undefined;
  for (const p of skipped) if (p.fd !== live) closeSync(p.fd);
  if (live !== undefined) {
    if (places.length === 0) places.push({ fd: live, at: sizes.at(-1)!, end: Infinity });
    else places.at(-1)!.end = Infinity;
  }
  return readLog(places, opts.sinceNs, follow);
}

/**
 * The log from the live file's present end on (opened now: a follower that stops reading live
 * records here where it is), following the files through rotation until caught up.
 */
export function followFrom(follow: FollowOn, sinceNs?: bigint): LogReader {
  const places: Place[] = [];
  try {
    const fd = openSync(follow.file, 'r');
    places.push({ fd, at: fstatSync(fd).size, end: Infinity });
  } catch {
    /* no live file yet: whatever appears is new */
  }
  return readLog(places, sinceNs, follow);
}

function readLog(places: Place[], sinceNs: bigint | undefined, follow: FollowOn | undefined): LogReader {
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    for (const p of places) closeSync(p.fd);
    places.length = 0;
  };
  function* pieces(): Generator<string> {
    try {
      for (;;) {
        const p = places[0];
        const piece = p ? readPiece(p, sinceNs) : null;
        if (piece !== null) {
          if (piece) yield piece;
          continue;
        }
        if (p && p.end !== Infinity) {
          closeSync(p.fd);
          places.shift();
          continue;
        }
        if (!follow) return;
        // the end of a followed file: caught up if it is still the live file, else on with
        // the file that came after it
        const next = nextFile(follow, p ? fstatSync(p.fd).ino : null);
        if (next === null) return follow.caughtUp();
        if (p) closeSync(p.fd);
        places[0] = { fd: next, at: 0, end: Infinity };
      }
    } finally {
      close();
    }
  }
  return { pieces: pieces(), close };
}

/**
 * The next piece of whole lines from `p` (advancing it), '' when none of them is a log entry
 * to send, null at its end (a line cut at the end is left for a later read, or for good).
 */
function readPiece(p: Place, sinceNs: bigint | undefined, size = PIECE): string | null {
  const want = Math.min(size, p.end - p.at);
  if (want <= 0) return null;
  const buf = Buffer.allocUnsafe(want);
  const n = readSync(p.fd, buf, 0, want, p.at);
  if (n <= 0) return null;
  // cut at the last newline before decoding: a piece never splits a character
  const nl = buf.lastIndexOf(10, n - 1);
  if (nl < 0) {
    if (n < size) return null;
    if (size < LONGEST) return readPiece(p, sinceNs, LONGEST);
    p.at += n; // a megabyte without a newline is no log line: skipped
    return '';
  }
  p.at += nl + 1;
  return checked(buf.toString('utf8', 0, nl + 1), sinceNs);
}

function isLive(file: string, fd: number): boolean {
  try {
    return statSync(file).ino === fstatSync(fd).ino;
  } catch {
    return false;
  }
}

/**
 * The file written after the one of inode `ino` (null: none read yet), opened; null when `ino`
 * is the live file's (nothing after it) or there is no live file. When `ino` was rotated away
 * entirely, the oldest file still kept comes next: what was between is lost, as with Docker.
 */
function nextFile(follow: FollowOn, ino: number | null): number | null {
  const keep = Math.max(1, follow.maxFile);
  // the rotation's names, oldest first (files beyond max-file are left from an earlier run)
  const names = [...Array.from({ length: keep - 1 }, (_, i) => `${follow.file}.${keep - 1 - i}`), follow.file];
  const inos = names.map((n) => {
    try {
      return statSync(n).ino;
    } catch {
      return null;
    }
  });
  const live = inos.at(-1)!;
  if (live === null || ino === live) return null;
  for (let i = (ino === null ? -1 : inos.indexOf(ino)) + 1; i < names.length; i++) {
    if (inos[i] === null) continue;
    try {
      return openSync(names[i], 'r');
    } catch {
      /* gone meanwhile */
    }
  }
  return null;
}

/** Where the last `tail` lines start: [file index, byte offset]. */
function tailStart(fds: number[], sizes: number[], tail: number): [number, number] {
  if (tail === 0) return [fds.length, 0];
  let need = tail;
  for (let i = fds.length - 1; i >= 0; i--) {
    const buf = Buffer.allocUnsafe(sizes[i]);
    const n = readSync(fds[i], buf, 0, buf.length, 0);
    // the file's last newline ends its last line; each newline before it starts one more line
    let nl = buf.lastIndexOf(10, n - 1);
    while (nl > 0) {
      const prev = buf.lastIndexOf(10, nl - 1);
      if (--need === 0) return [i, prev + 1];
      nl = prev;
    }
  }
  return [0, 0];
}

/**
 * Whole lines that are log entries (all of them, as a rule: one JSON.parse checks them all),
 * and only those at or after `sinceNs`; '' when none is left.
 */
function checked(lines: string, sinceNs: bigint | undefined): string {
  if (!lines) return '';
  let entries: LogEntry[] | null = null;
  try {
    entries = JSON.parse(`[${lines.slice(0, -1).replaceAll('\n', ',')}]`) as LogEntry[];
    if (!entries.every(isEntry)) entries = null;
  } catch {
    entries = null;
  }
  if (entries) {
    if (sinceNs === undefined || rfc3339ToNs(entries[0].time) >= sinceNs) return lines;
    if (rfc3339ToNs(entries.at(-1)!.time) < sinceNs) return '';
  }
  const keep: string[] = [];
  lines.split('\n').forEach((line, i) => {
    let e = entries?.[i];
    if (!e) {
      try {
        e = JSON.parse(line) as LogEntry;
      } catch {
        return;
      }
    }
    if (isEntry(e) && (sinceNs === undefined || rfc3339ToNs(e.time) >= sinceNs)) keep.push(line + '\n');
  });
  return keep.join('');
}

function isEntry(e: LogEntry): boolean {
  return typeof e === 'object' && e !== null && typeof e.log === 'string' && typeof e.time === 'string' && (e.stream === 'stdout' || e.stream === 'stderr');
}
