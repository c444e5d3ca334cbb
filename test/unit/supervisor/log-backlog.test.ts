import { describe, expect, it } from 'vitest';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { followFrom, openBacklog } from '../../../src/supervisor/log-backlog.js';
import { LogWriter, nowRfc3339Nano, readLogs, rfc3339ToNs } from '../../../src/supervisor/logs.js';
import type { LogEntry } from '../../../src/supervisor/types.js';
import { tempRoot } from './helpers.js';

const logsOf = (pieces: Iterable<string>): string[] =>
  [...pieces]
    .join('')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as LogEntry).log);

describe('openBacklog', () => {
  it('sends the stored lines as readLogs reads them: all, the last N across files, since a time; a line cut by a crash is left out', () => {
    const { root, cleanup } = tempRoot();
    try {
      const file = path.join(root, 'c.log');
      const w = new LogWriter(file, { driver: 'json-file', maxSize: 1000, maxFile: 3 });
      const entries: LogEntry[] = [];
      for (let i = 0; i < 60; i++) {
        const e: LogEntry = { log: `line ${i} "ü"\n`, stream: i % 2 ? 'stderr' : 'stdout', time: nowRfc3339Nano() };
        entries.push(e);
        w.writeLines(JSON.stringify(e) + '\n');
      }
      w.close();
      const before = readLogs(file, 3).map((e) => e.log);
      expect(logsOf(openBacklog(file, 3, { tail: 25 }).pieces)).toEqual(before.slice(-25));
      expect(logsOf(openBacklog(file, 3, { tail: 0 }).pieces)).toEqual([]);
      expect(logsOf(openBacklog(file, 3, { tail: 1000 }).pieces)).toEqual(before);
      // a line cut by a crash mid-write, then the next supervisor's lines
      appendFileSync(file, '{"log":"cut');
      for (const log of ['lost with the cut line\n', 'after\n']) appendFileSync(file, JSON.stringify({ log, stream: 'stdout', time: nowRfc3339Nano() }) + '\n');
      const all = readLogs(file, 3).map((e) => e.log);
      expect(all.slice(-2)).toEqual(['line 59 "ü"\n', 'after\n']);
      expect(logsOf(openBacklog(file, 3).pieces)).toEqual(all);
      const sinceNs = rfc3339ToNs(entries[55].time);
      expect(logsOf(openBacklog(file, 3, { sinceNs }).pieces)).toEqual(readLogs(file, 3, { sinceNs }).map((e) => e.log));
    } finally {
      cleanup();
    }
  });

  it('a follower behind the writer reads on through rotation: every line still on disk, in order, once; live again at the end', () => {
    const { root, cleanup } = tempRoot();
    try {
      const file = path.join(root, 'c.log');
      const w = new LogWriter(file, { driver: 'json-file', maxSize: 2000, maxFile: 3 });
      let n = 0;
      const write = (count: number): void => {
        for (let i = 0; i < count; i++) w.writeLines(JSON.stringify({ log: `${n++}\n`, stream: 'stdout', time: nowRfc3339Nano() }) + '\n');
      };
      const read = (pieces: Iterator<string>, upTo: number): number[] => {
        const got: number[] = [];
        // a piece at a time while the writer goes on (as the connection drains)
        for (let r = pieces.next(); !r.done; r = pieces.next()) {
          got.push(...logsOf([r.value]).map(Number));
          if (n < upTo) write(7);
        }
        return got;
      };
      write(10);
      // behind from line 10 on, then the writer rotates a few times (less than max-file's worth)
      let caught = 0;
      const follow = { file, maxFile: 3, caughtUp: () => caught++ };
      let r = followFrom(follow);
      write(40);
      let got = read(r.pieces[Symbol.iterator](), 90);
      expect(got).toEqual(Array.from({ length: n - 10 }, (_, i) => i + 10));
      expect(caught).toBe(1);
      // behind by more than max-file's worth: the file it had open is read to its end (its fd
      // keeps it), then the files still kept; what was rotated away between is lost
      const from = n;
      r = followFrom(follow);
      write(200);
      const kept = readLogs(file, 3).map((e) => Number(e.log));
      got = read(r.pieces[Symbol.iterator](), 0);
      expect(kept[0]).toBeGreaterThan(from);
      expect(got[0]).toBe(from);
      expect(got.slice(-kept.length)).toEqual(kept);
      expect(got.length).toBeLessThan(n - from);
      expect(got.every((v, i) => i === 0 || v > got[i - 1])).toBe(true);
      expect(caught).toBe(2);
      // the stored log read to its end and on, from the last 5 lines
      r = openBacklog(file, 3, { tail: 5 }, follow);
      const it = r.pieces[Symbol.iterator]();
      write(30);
      expect(read(it, 0)).toEqual(Array.from({ length: 35 }, (_, i) => n - 35 + i));
      expect(caught).toBe(3);
      // tail 0: from the live file's end
      r = openBacklog(file, 3, { tail: 0 }, follow);
      write(3);
      expect(logsOf(r.pieces).map(Number)).toEqual([n - 3, n - 2, n - 1]);
      w.close();
    } finally {
      cleanup();
    }
  });
});
