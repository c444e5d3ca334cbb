import { describe, expect, it } from 'vitest';

import { formatDuration, parseBytes, parseDuration } from '../../../src/compose/units.js';
import { splitShellWords } from '../../../src/compose/shell.js';

describe('durations (milliseconds)', () => {
  it('parses Go-style durations as Compose does', () => {
    expect(parseDuration('1m30s')).toBe(90_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseDuration('300ms')).toBe(300);
    expect(parseDuration('10s')).toBe(10_000);
    expect(parseDuration('1h2m3s4ms')).toBe(3_723_004);
    expect(parseDuration('500us')).toBe(0.5);
    expect(parseDuration('10')).toBe(10_000);
  });
  it('rejects what is not a duration', () => {
    expect(parseDuration('abc')).toBeUndefined();
    expect(parseDuration('10x')).toBeUndefined();
    expect(parseDuration('')).toBeUndefined();
    expect(parseDuration('-5s')).toBeUndefined();
  });
  it('formats back the way Go prints a time.Duration', () => {
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(1000)).toBe('1s');
    expect(formatDuration(500)).toBe('500ms');
    expect(formatDuration(3_723_004)).toBe('1h2m3.004s');
    expect(formatDuration(0)).toBe('0s');
  });
});

describe('byte sizes', () => {
  it('parses binary multiples, case-insensitive, with optional b suffix', () => {
    expect(parseBytes('512m')).toBe(512 * 1024 * 1024);
    expect(parseBytes('1g')).toBe(1024 ** 3);
    expect(parseBytes('1GB')).toBe(1024 ** 3);
    expect(parseBytes('1.5g')).toBe(1.5 * 1024 ** 3);
    expect(parseBytes('100k')).toBe(102_400);
    expect(parseBytes('1024')).toBe(1024);
    expect(parseBytes(2048)).toBe(2048);
    expect(parseBytes('64Mi')).toBeUndefined();
    expect(parseBytes('64MiB')).toBe(64 * 1024 * 1024);
    expect(parseBytes('lots')).toBeUndefined();
  });
});

describe('command strings split like a shell', () => {
  it('handles quotes and escapes', () => {
    expect(splitShellWords(`sh -c 'echo "hi there"'`)).toEqual(['sh', '-c', 'echo "hi there"']);
    expect(splitShellWords(`echo "a \\"b\\"" c\\ d`)).toEqual(['echo', 'a "b"', 'c d']);
    expect(splitShellWords('  a   b  ')).toEqual(['a', 'b']);
    expect(splitShellWords(`echo ''`)).toEqual(['echo', '']);
    expect(splitShellWords(`echo 'open`)).toBeUndefined();
  });
});
