import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { LineSplitter, LogWriter, nowRfc3339Nano, readLogs, rfc3339ToNs, sinceToNs } from '../../../src/supervisor/logs.js';
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

describe('LineSplitter', () => {
  it('splits lines, keeps partial output until flushed, and cuts long lines at 16 KiB', () => {
    const out: LogEntry[] = [];
    const s = new LineSplitter('stderr', (e) => out.push(e));
    s.push(Buffer.from('one\ntw'));
    expect(out.map((e) => e.log)).toEqual(['one\n']);
    s.push(Buffer.from('o\nthree'));
    s.flush();
    expect(out.map((e) => e.log)).toEqual(['one\n', 'two\n', 'three']);
    expect(out.every((e) => e.stream === 'stderr')).toBe(true);
    out.length = 0;
    s.push(Buffer.alloc(40 * 1024, 'x'));
    s.flush();
    expect(out.map((e) => e.log.length)).toEqual([16384, 16384, 40 * 1024 - 32768]);
  });
  it('does not break a multi-byte character split across chunks', () => {
    const out: LogEntry[] = [];
    const s = new LineSplitter('stdout', (e) => out.push(e));
    const b = Buffer.from('héllo\n');
    s.push(b.subarray(0, 2));
    s.push(b.subarray(2));
    expect(out[0].log).toBe('héllo\n');
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
        w.write(e);
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

  it('writes a batch in one go, split only where the file rotates', () => {
    const { root, cleanup } = tempRoot();
    try {
      const file = path.join(root, 'c.log');
      const w = new LogWriter(file, { driver: 'json-file', maxSize: 1000, maxFile: 2 });
      const entries: LogEntry[] = Array.from({ length: 30 }, (_, i) => ({ log: `line ${i}\n`, stream: 'stdout', time: nowRfc3339Nano() }));
      w.writeMany(entries);
      w.close();
      for (const f of [file, `${file}.1`]) expect(readFileSync(f).length).toBeLessThanOrEqual(1000);
      expect(existsSync(`${file}.2`)).toBe(false);
      const back = readLogs(file, 2).map((e) => e.log);
      expect(back.at(-1)).toBe('line 29\n');
      expect(back).toEqual(entries.slice(30 - back.length).map((e) => e.log));
    } finally {
      cleanup();
    }
  });
});
