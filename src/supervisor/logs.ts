/**
 * Container logs: Docker's json-file format (one JSON object per line: log, stream, time in
 * RFC 3339 with nanoseconds), size-based rotation (file, file.1, ... file.N-1), and reading
 * back with tail/since.
 */
import { closeSync, existsSync, fstatSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { TscError } from '../common/errors.js';
import type { LogEntry, LogOptions } from './types.js';
import { faultWrite } from '../sys/fault.js';

const wallOffsetNs = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

/** Now as RFC 3339 with nanoseconds, e.g. 2026-11-28T06:47:52.123456789Z. */
export function nowRfc3339Nano(): string {
  const ns = process.hrtime.bigint() + wallOffsetNs;
  const ms = Number(ns / 1_000_000n);
  const iso = new Date(ms).toISOString(); // ...T06:47:52.123Z
  const subMs = (ns % 1_000_000n).toString().padStart(6, '0');
  return iso.slice(0, 23) + subMs + 'Z';
}

/** Nanoseconds since the epoch of an RFC 3339 time (any fraction length, Z or offset). */
export function rfc3339ToNs(t: string): bigint {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(t);
  if (!m) {
    throw new TscError('USAGE', `invalid timestamp "${t}"`, {
      hint: 'use an RFC 3339 time (2026-01-02T15:04:05Z), Unix seconds, or a duration such as 10m or 1h30m',
    });
  }
  const secMs = Date.parse(m[1] + m[3]);
  if (Number.isNaN(secMs)) throw new TscError('USAGE', `invalid timestamp "${t}"`);
  const frac = (m[2] ?? '').slice(0, 9).padEnd(9, '0');
  return BigInt(secMs) * 1_000_000n + BigInt(frac);
}

/** Appends entries to the live log file and rotates it by size. */
export class LogWriter {
  private fd: number;
  private size: number;

  constructor(
    private readonly file: string,
    private readonly opts: LogOptions,
  ) {
    this.fd = openSync(file, 'a', 0o640);
    this.size = fstatSync(this.fd).size;
  }

  /**
   * Appends json-file lines (LogEncoder's) with one write, split only where the file rotates:
   * a container printing 10,000 short lines a second costs a few writes, not 10,000 system
   * calls. A file ends at a line's end; a line longer than max-size has a file of its own.
   */
  writeLines(lines: string): void {
    if (!lines) return;
    const bytes = Buffer.byteLength(lines);
    const max = this.opts.maxSize;
    // the common case: written as it is, with no Buffer made for it
    if (max <= 0 || this.size + bytes <= max) return this.append(lines, bytes);
    let data = Buffer.from(lines);
    while (this.size + data.length > max) {
      // the whole lines that still fit
      let cut = this.size < max ? data.lastIndexOf(10, max - this.size - 1) + 1 : 0;
      if (cut === 0 && this.size === 0) cut = data.indexOf(10) + 1 || data.length;
      if (cut > 0) {
        this.append(data.subarray(0, cut), cut);
        data = data.subarray(cut);
        if (data.length === 0) return;
      }
      this.rotate();
    }
    this.append(data, data.length);
  }

  private append(data: string | Buffer, bytes: number): void {
    try {
      faultWrite(this.file);
      // a string of as many bytes as characters is ASCII: latin1 is its cheapest exact encoding
      if (typeof data === 'string') writeSync(this.fd, data, null, bytes === data.length ? 'latin1' : 'utf8');
      else writeSync(this.fd, data);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new TscError(code === 'ENOSPC' ? 'DISK_FULL' : 'SUPERVISOR', `writing the log file ${this.file} failed: ${(err as Error).message}`, { cause: err });
    }
    this.size += bytes;
  }

  private rotate(): void {
    closeSync(this.fd);
    const keep = Math.max(1, this.opts.maxFile);
    if (keep === 1) {
      rmSync(this.file, { force: true });
    } else {
      rmSync(`${this.file}.${keep - 1}`, { force: true });
      for (let i = keep - 2; i >= 1; i--) {
        if (existsSync(`${this.file}.${i}`)) renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`);
      }
      renameSync(this.file, `${this.file}.1`);
    }
    this.fd = openSync(this.file, 'a', 0o640);
    this.size = 0;
  }

  close(): void {
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
  }
}

/** All log files of a container, oldest first. */
export function logFiles(file: string, maxFile: number): string[] {
  const out: string[] = [];
  for (let i = Math.max(1, maxFile) + 8; i >= 1; i--) {
    // rotated files beyond maxFile may remain from a run with a larger max-file: read them too
    if (existsSync(`${file}.${i}`)) out.push(`${file}.${i}`);
  }
  if (existsSync(file)) out.push(file);
  return out;
}

export interface ReadLogOptions {
  tail?: number;
  /** epoch nanoseconds: entries at or after it */
  sinceNs?: bigint;
}

export function readLogs(file: string, maxFile: number, opts: ReadLogOptions = {}): LogEntry[] {
  let entries: LogEntry[] = [];
  for (const f of logFiles(file, maxFile)) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue; // rotated away while reading
    }
    for (const line of text.split('\n')) {
      if (!line) continue;
      let e: LogEntry;
      try {
        e = JSON.parse(line) as LogEntry;
      } catch {
        continue; // a line cut by a crash mid-write
      }
      if (opts.sinceNs !== undefined && rfc3339ToNs(e.time) < opts.sinceNs) continue;
      entries.push(e);
    }
  }
  if (opts.tail !== undefined && opts.tail >= 0) entries = opts.tail === 0 ? [] : entries.slice(-opts.tail);
  return entries;
}

/**
 * `since` as Docker takes it: epoch milliseconds (a number), an RFC 3339 time, Unix seconds
 * ("1700000000" or "1700000000.5"), or a duration back from now ("90s", "10m", "1h30m").
 */
export function sinceToNs(since: string | number | undefined, nowMs = Date.now()): bigint | undefined {
  if (since === undefined) return undefined;
  if (typeof since === 'number') return BigInt(Math.floor(since)) * 1_000_000n;
  const s = since.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return BigInt(Math.round(Number(s) * 1000)) * 1_000_000n;
  if (/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(s)) {
    const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
    let ms = 0;
    for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) ms += Number(m[1]) * unit[m[2]];
    return BigInt(Math.round(nowMs - ms)) * 1_000_000n;
  }
  return rfc3339ToNs(s);
}

/** Longest unfinished line kept as one entry; longer output is split as Docker does (16 KiB). */
const MAX_LINE = 16 * 1024;
/** what JSON.stringify escapes in a string, the newline aside (it never sees a lone surrogate here) */
const ESCAPED = ['"', '\\', ...Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).filter((c) => c !== '\n')];

/**
 * Turns a stream's output into json-file lines, a read at a time: one string for all the lines
 * of a read, stamped with one time (the read's), each line's newline kept as Docker does. The
 * cost per byte is that of a few native string operations (decode, at most one JSON.stringify
 * for the whole read, replaceAll), not of an object and a JSON.stringify per line: the supervisor runs
 * V8 without its optimizing compiler (--lite-mode), where a per-line loop is what costs.
 */
export class LogEncoder {
  private decoder = new StringDecoder('utf8');
  private pending = '';
  private readonly fields: string;

  constructor(stream: 'stdout' | 'stderr') {
    this.fields = `,"stream":"${stream}","time":"`;
  }

  /** The lines completed by `chunk` (and 16 KiB pieces of a longer unfinished one), or ''. */
  encode(chunk: Buffer, time = nowRfc3339Nano()): string {
    let text = this.pending + this.decoder.write(chunk);
    let out = '';
    const nl = text.lastIndexOf('\n');
    if (nl >= 0) {
      out = this.lines(nl === text.length - 1 ? text : text.slice(0, nl + 1), time);
      text = text.slice(nl + 1);
    }
    while (text.length >= MAX_LINE) {
      out += this.entry(text.slice(0, MAX_LINE), time);
      text = text.slice(MAX_LINE);
    }
    this.pending = text;
    return out;
  }

  /** What is left (output that did not end with a newline), or ''. */
  flush(time = nowRfc3339Nano()): string {
    const text = this.pending + this.decoder.end();
    this.pending = '';
    return text ? this.entry(text, time) : '';
  }

  /** JSON.stringify({ log, stream, time }) + '\n', without the object. */
  private entry(log: string, time: string): string {
    return `{"log":${JSON.stringify(log)}${this.fields}${time}"}\n`;
  }

  /**
   * `text`: whole lines. Text with nothing to escape but its newlines (the common case) needs no
   * JSON.stringify: each newline becomes the end of one line and the start of the next. Else
   * one JSON.stringify escapes all the lines at once (a native loop, much faster here than a
   * replaceAll per escaped character), and in its output the escape of a newline (\n) marks each
   * line's end, as long as the text held no backslash of its own (an escaped backslash followed
   * by "n" would look the same): such text goes line by line.
   */
  private lines(text: string, time: string): string {
    const end = `\\n"${this.fields}${time}"}\n`;
    // a\nb\n -> {"log":"a\n",...}\n{"log":"b\n",...}\n
    if (!ESCAPED.some((c) => text.includes(c))) return `{"log":"${text.slice(0, -1).replaceAll('\n', `${end}{"log":"`)}${end}`;
    if (text.includes('\\')) return this.lineByLine(text, time);
    return `{"log":${JSON.stringify(text).slice(0, -3).replaceAll('\\n', `${end}{"log":"`)}${end}`;
  }

  private lineByLine(text: string, time: string): string {
    let out = '';
    for (let at = 0; at < text.length;) {
      const nl = text.indexOf('\n', at) + 1;
      out += this.entry(text.slice(at, nl), time);
      at = nl;
    }
    return out;
  }
}
