import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { atomicTempOf, lockFileSync, readLockHolder, withLock, writeFileAtomic, writeFileAtomicSync } from '../../../src/sys/files.js';

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'tsc-files-'));

describe('atomic writes', () => {
  it('replace the whole file and leave no temp file, sync and async', async () => {
    const dir = tmp();
    try {
      const f = path.join(dir, 'sub', 'a.json');
      writeFileAtomicSync(f, 'one');
      await writeFileAtomic(f, 'two', { mode: 0o600 });
      expect(readFileSync(f, 'utf8')).toBe('two');
      expect(readdirSync(path.dirname(f))).toEqual(['a.json']);
      expect(atomicTempOf(`.a.json.${process.pid}.0a1b2c3d.tmp`, 'a.json')).toBe(process.pid);
      expect(atomicTempOf('.b.json.1.00.tmp', 'a.json')).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('lock files', () => {
  it('a held lock makes another process wait, names the holder when it gives up, and dies with its holder', async () => {
    const dir = tmp();
    const file = path.join(dir, 'x.lock');
    const held = lockFileSync(file, { what: 'the test', command: 'tscompose test' });
    try {
      expect(readLockHolder(file)).toMatchObject({ pid: process.pid, command: 'tscompose test' });
      // the same process opening the file again gets another open file description: refused
      expect(() => lockFileSync(file, { what: 'the test', timeoutMs: 50 })).toThrow(
        /timed out after 0.1s waiting for the lock of the test, held by pid \d+ \(tscompose test\)/,
      );
    } finally {
      held.release();
    }
    // a holder killed with SIGKILL releases it
    const child = spawn(
      process.execPath,
      [
        '-e',
        `
      const { openSync } = require('node:fs');
      const koffi = require('koffi');
      const flock = koffi.load('libc.so.6').func('int flock(int, int)');
      flock(openSync(${JSON.stringify(file)}, 'r+'), 2);
      console.log('locked');
      setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((r) => child.stdout!.once('data', () => r()));
    expect(() => lockFileSync(file, { what: 'the test', timeoutMs: 50 })).toThrow(/waiting for the lock of the test/);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(await withLock(file, { what: 'the test', timeoutMs: 2000 }, async () => 'got it')).toBe('got it');
    rmSync(dir, { recursive: true, force: true });
  });
});
