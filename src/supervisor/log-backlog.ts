/**
 * A container's stored log as a logs request sends it: json-file lines as the files hold them,
 * in pieces of about 1 MiB, so that the supervisor sends a 30 MB log without making an object
 * per line at once, and can answer other requests between pieces.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { logFiles, rfc3339ToNs, type ReadLogOptions } from './logs.js';
import type { LogEntry } from './types.js';

const PIECE = 1024 * 1024;

/**
 * The log files as they are now (opened at once: a rotation while the pieces are read changes
 * nothing), oldest first, as pieces of whole json-file lines: the last `tail` lines only, or
 * those at or after `sinceNs`. A line that is not a log entry (cut by a crash mid-write) is left
 * out. Call `close` when not reading to the end.
 */
export function openBacklog(file: string, maxFile: number, opts: ReadLogOptions = {}): { pieces: Iterable<string>; close(): void } {
  const fds: number[] = [];
  for (const f of logFiles(file, maxFile)) {
    try {
      fds.push(openSync(f, 'r'));
    } catch {
      /* rotated away meanwhile */
    }
  }
  const sizes = fds.map((fd) => fstatSync(fd).size);
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    for (const fd of fds) closeSync(fd);
  };
  function* pieces(): Generator<string> {
    try {
      let [file, at] = [0, 0];
      if (opts.tail !== undefined && opts.tail >= 0) [file, at] = tailStart(fds, sizes, opts.tail);
      for (; file < fds.length; file++, at = 0) {
        let rest = Buffer.alloc(0);
        while (at < sizes[file]) {
          const buf = Buffer.allocUnsafe(Math.min(PIECE, sizes[file] - at));
          const n = readSync(fds[file], buf, 0, buf.length, at);
          if (n <= 0) break;
          at += n;
          // cut at the last newline before decoding: a piece never splits a character
          const bytes = rest.length ? Buffer.concat([rest, buf.subarray(0, n)]) : buf.subarray(0, n);
          const nl = bytes.lastIndexOf(10);
          rest = bytes.subarray(nl + 1);
          const piece = checked(bytes.toString('utf8', 0, nl + 1), opts.sinceNs);
          if (piece) yield piece;
        }
      }
    } finally {
      close();
    }
  }
  return { pieces: pieces(), close };
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
