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

  write(entry: LogEntry): void {
    this.writeMany([entry]);
  }

  /**
   * Appends entries with one write per batch (split only where the file rotates): a container
   * printing 10,000 short lines a second costs a few writes, not 10,000 system calls on the
   * supervisor's only thread.
   */
  writeMany(entries: LogEntry[]): void {
    let parts: Buffer[] = [];
    let pending = 0;
    const flush = () => {
      if (pending > 0) this.append(Buffer.concat(parts, pending));
      parts = [];
      pending = 0;
    };
    for (const entry of entries) {
      const line = Buffer.from(JSON.stringify(entry) + '\n');
      const size = this.size + pending;
      if (this.opts.maxSize > 0 && size > 0 && size + line.length > this.opts.maxSize) {
        flush();
        this.rotate();
      }
      parts.push(line);
      pending += line.length;
    }
    flush();
  }

  private append(data: Buffer): void {
    try {
      faultWrite(this.file);
      writeSync(this.fd, data);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new TscError(code === 'ENOSPC' ? 'DISK_FULL' : 'SUPERVISOR', `writing the log file ${this.file} failed: ${(err as Error).message}`, { cause: err });
    }
    this.size += data.length;
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

/** Longest line kept as one entry; longer output is split as Docker does (16 KiB). */
const MAX_LINE = 16 * 1024;

/** Turns a byte stream into log entries, one per line (the newline kept, as Docker does). */
export class LineSplitter {
  private decoder = new StringDecoder('utf8');
  private pending = '';

  constructor(
    private readonly stream: 'stdout' | 'stderr',
    private readonly emit: (e: LogEntry) => void,
  ) {}

  push(chunk: Buffer): void {
    this.pending += this.decoder.write(chunk);
    let nl: number;
    while ((nl = this.pending.indexOf('\n')) >= 0) {
      this.emitLine(this.pending.slice(0, nl + 1));
      this.pending = this.pending.slice(nl + 1);
    }
    while (this.pending.length >= MAX_LINE) {
      this.emitLine(this.pending.slice(0, MAX_LINE));
      this.pending = this.pending.slice(MAX_LINE);
    }
  }

  /** Emits what is left (output that did not end with a newline). */
  flush(): void {
    this.pending += this.decoder.end();
    if (this.pending) this.emitLine(this.pending);
    this.pending = '';
  }

  private emitLine(log: string): void {
    this.emit({ log, stream: this.stream, time: nowRfc3339Nano() });
  }
}
