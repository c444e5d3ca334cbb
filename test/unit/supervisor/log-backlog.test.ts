import { describe, expect, it } from 'vitest';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { openBacklog } from '../../../src/supervisor/log-backlog.js';
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
});
