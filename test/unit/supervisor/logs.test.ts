import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { LogEncoder, LogWriter, nowRfc3339Nano, readLogs, rfc3339ToNs, sinceToNs } from '../../../src/supervisor/logs.js';
import { encode, encodeLogLines } from '../../../src/supervisor/protocol.js';
import type { LogEntry } from '../../../src/supervisor/types.js';
import { tempRoot } from './helpers.js';

describe('log times', () => {
  it('are RFC 3339 with nanoseconds and increase', () => {
    const a = nowRfc3339Nano();
    const b = nowRfc3339Nano();
    expect(a).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/);
    expect(rfc3339ToNs(b) >= rfc3339ToNs(a)).toBe(true);
    expect(Math.abs(Number(rfc3339ToNs(a) / 1_000_000n) - Date.now())).toBeLessThan(1000);
  });
  it('parse with offsets and short fractions', () => {
    expect(rfc3339ToNs('2026-01-02T03:04:05Z')).toBe(BigInt(Date.UTC(2026, 0, 2, 3, 4, 5)) * 1_000_000n);
    expect(rfc3339ToNs('2026-01-02T04:04:05.5+01:00')).toBe(BigInt(Date.UTC(2026, 0, 2, 3, 4, 5)) * 1_000_000n + 500_000_000n);
    expect(() => rfc3339ToNs('yesterday')).toThrow(/invalid timestamp/);
  });
});

describe('since', () => {
  it('takes epoch ms, RFC 3339, Unix seconds and durations back from now', () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 0);
    expect(sinceToNs(undefined)).toBeUndefined();
    expect(sinceToNs(now)).toBe(BigInt(now) * 1_000_000n);
    expect(sinceToNs('2026-01-01T12:00:00Z')).toBe(BigInt(now) * 1_000_000n);
    expect(sinceToNs(String(now / 1000))).toBe(BigInt(now) * 1_000_000n);
    expect(sinceToNs('1h30m', now)).toBe(BigInt(now - 90 * 60_000) * 1_000_000n);
    expect(sinceToNs('500ms', now)).toBe(BigInt(now - 500) * 1_000_000n);
    expect(() => sinceToNs('last tuesday')).toThrow(expect.objectContaining({ code: 'USAGE' }));
  });
});

/** The entries in json-file lines. */
const parse = (lines: string): LogEntry[] =>
  lines
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LogEntry);
const asLines = (entries: LogEntry[]): string => entries.map((e) => JSON.stringify(e) + '\n').join('');

describe('LogEncoder', () => {
  it('splits lines, keeps partial output until flushed, and cuts long lines at 16 KiB', () => {
    const s = new LogEncoder('stderr');
    let out = parse(s.encode(Buffer.from('one\ntw')));
    expect(out.map((e) => e.log)).toEqual(['one\n']);
    out = [...out, ...parse(s.encode(Buffer.from('o\nthree'))), ...parse(s.flush())];
    expect(out.map((e) => e.log)).toEqual(['one\n', 'two\n', 'three']);
    expect(out.every((e) => e.stream === 'stderr')).toBe(true);
    out = [...parse(s.encode(Buffer.alloc(40 * 1024, 'x'))), ...parse(s.flush())];
    expect(out.map((e) => e.log.length)).toEqual([16384, 16384, 40 * 1024 - 32768]);
  });

  it('does not break a multi-byte character split across chunks', () => {
    const s = new LogEncoder('stdout');
    const b = Buffer.from('héllo\n');
    expect(s.encode(b.subarray(0, 2))).toBe('');
    expect(parse(s.encode(b.subarray(2)))[0].log).toBe('héllo\n');
  });

  it('writes exactly what JSON.stringify of each entry would, whatever the lines hold', () => {
    const time = nowRfc3339Nano();
    const samples = [
      'plain\n',
      'say "hi"\tand\r\n',
      'a\\nb \\ c\\\n',
      'ctl \x00\x01\x07\x08\x0b\x0c\x1b\x1f\x7f end\n',
      'ünï ☃ 𝄞 \u2028\u2029\n',
      '{"level":"info","msg":"x \\"y\\""}\n',
      '\n',
      '\\u0001 and \x01 both\n',
    ];
    // each sample alone, all together, and in a random order with random cuts
    const texts = [...samples, samples.join('')];
    let seed = 7;
    const rand = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let i = 0; i < 20; i++) texts.push(Array.from({ length: 30 }, () => samples[rand(samples.length)]).join(''));
    for (const text of texts) {
      const bytes = Buffer.from(text);
      const enc = new LogEncoder('stdout');
      let out = '';
      for (let at = 0; at < bytes.length;) {
        const next = Math.min(bytes.length, at + 1 + rand(200));
        out += enc.encode(bytes.subarray(at, next), time);
        at = next;
      }
      out += enc.flush(time);
      const lines = text.split(/(?<=\n)/).filter(Boolean);
      expect(out).toBe(asLines(lines.map((log) => ({ log, stream: 'stdout', time }))));
    }
  });

  it('its lines become log messages as encode() writes them', () => {
    const entries: LogEntry[] = [
      { log: 'a "b"\n', stream: 'stdout', time: nowRfc3339Nano() },
      { log: 'c\\d\n', stream: 'stderr', time: nowRfc3339Nano() },
    ];
    const { text, count } = encodeLogLines(42, asLines(entries));
    expect(count).toBe(2);
    expect(text).toBe(entries.map((entry) => encode({ type: 'log', id: 42, entry })).join(''));
  });
});

describe('LogWriter rotation and readLogs', () => {
  it('rotates by size, keeps max-file files, and reads back oldest first with tail and since', () => {
    const { root, cleanup } = tempRoot();
    try {
      const file = path.join(root, 'c.log');
      const w = new LogWriter(file, { driver: 'json-file', maxSize: 1000, maxFile: 3 });
      const entries: LogEntry[] = [];
      for (let i = 0; i < 100; i++) {
        const e: LogEntry = { log: `line ${i}\n`, stream: 'stdout', time: nowRfc3339Nano() };
        entries.push(e);
        w.writeLines(asLines([e]));
      }
      w.close();
      expect(existsSync(`${file}.1`)).toBe(true);
      expect(existsSync(`${file}.2`)).toBe(true);
      expect(existsSync(`${file}.3`)).toBe(false);
      for (const f of [file, `${file}.1`, `${file}.2`]) expect(readFileSync(f).length).toBeLessThanOrEqual(1000);
      const all = readLogs(file, 3);
      expect(all.length).toBeLessThan(100);
      expect(all.at(-1)!.log).toBe('line 99\n');
      const nums = all.map((e) => Number(e.log.split(' ')[1]));
      expect(nums).toEqual([...nums].sort((a, b) => a - b));
      expect(readLogs(file, 3, { tail: 2 }).map((e) => e.log)).toEqual(['line 98\n', 'line 99\n']);
      expect(readLogs(file, 3, { tail: 0 })).toEqual([]);
      const since = rfc3339ToNs(entries[97].time);
      expect(readLogs(file, 3, { sinceNs: since }).map((e) => e.log)).toEqual(['line 97\n', 'line 98\n', 'line 99\n']);
    } finally {
      cleanup();
    }
  });

  it('writes lines in one go, split only where the file rotates; a line longer than max-size has a file alone', () => {
    const { root, cleanup } = tempRoot();
    try {
      const file = path.join(root, 'c.log');
      const w = new LogWriter(file, { driver: 'json-file', maxSize: 1000, maxFile: 2 });
      const entries: LogEntry[] = Array.from({ length: 30 }, (_, i) => ({ log: `line ${i}\n`, stream: 'stdout', time: nowRfc3339Nano() }));
      w.writeLines(asLines(entries));
      w.close();
      for (const f of [file, `${file}.1`]) expect(readFileSync(f).length).toBeLessThanOrEqual(1000);
      expect(existsSync(`${file}.2`)).toBe(false);
      const back = readLogs(file, 2).map((e) => e.log);
      expect(back.at(-1)).toBe('line 29\n');
      expect(back).toEqual(entries.slice(30 - back.length).map((e) => e.log));
      // a line longer than max-size: alone in the live file, then rotated away by the next
      const long: LogEntry = { log: 'x'.repeat(2000) + '\n', stream: 'stdout', time: nowRfc3339Nano() };
      const w2 = new LogWriter(file, { driver: 'json-file', maxSize: 1000, maxFile: 2 });
      w2.writeLines(asLines([entries[0], long]));
      expect(parse(readFileSync(file, 'utf8')).map((e) => e.log)).toEqual([long.log]);
      w2.writeLines(asLines([entries[1]]));
      w2.close();
      expect(parse(readFileSync(`${file}.1`, 'utf8')).map((e) => e.log)).toEqual([long.log]);
      expect(parse(readFileSync(file, 'utf8')).map((e) => e.log)).toEqual([entries[1].log]);
    } finally {
      cleanup();
    }
  });
});
