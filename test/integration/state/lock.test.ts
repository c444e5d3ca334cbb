/**
 * The project lock across real processes: flock(2) through koffi, released by the kernel when
 * the holder dies. The holder is a separate Node process running the built dist/ code.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { distEntry } from '../../../src/common/paths.js';
import { TscError } from '../../../src/common/errors.js';
import { acquireProjectLock, readLockHolder, readProjectState, type LockHolder } from '../../../src/state/index.js';

let root: string;
const children: ChildProcess[] = [];
const strayPids: number[] = [];

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-lock-'));
});

afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
      await once(c, 'exit');
    }
  }
  for (const pid of strayPids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  fs.rmSync(root, { recursive: true, force: true });
});

/** Starts a process that takes the lock of `project`, says "locked", and holds it until killed or its stdin closes. */
async function holder(project: string, command = 'tscompose up -d', withGrandchild = false): Promise<ChildProcess> {
  const lockModule = distEntry('state/lock.js');
  const script = `
    import { acquireProjectLock } from ${JSON.stringify(lockModule)};
    import { spawn } from 'node:child_process';
    const lock = await acquireProjectLock(process.argv[1], process.argv[2], { wait: false, command: process.argv[3] });
    if (process.argv[4] === 'grandchild') {
      const g = spawn('sleep', ['30'], { stdio: 'ignore', detached: true });
      g.unref();
      process.stdout.write('grandchild ' + g.pid + '\\n');
    }
    process.stdout.write('locked\\n');
    process.stdin.on('end', () => { lock.release(); process.stdout.write('released\\n'); process.exit(0); });
    process.stdin.resume();
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, root, project, command, withGrandchild ? 'grandchild' : ''], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const g = /grandchild (\d+)\n/.exec(out);
      if (g && !strayPids.includes(Number(g[1]))) strayPids.push(Number(g[1]));
      if (out.includes('locked\n')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`lock holder exited with ${code}: ${err}`)));
  });
  return child;
}

async function rejection(p: Promise<unknown>): Promise<TscError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(TscError);
    return e as TscError;
  }
  throw new Error('expected a rejection');
}

describe('project lock across processes', () => {
  it('fails at once with STATE_LOCKED naming the holder when told not to wait', async () => {
    const child = await holder('tscdemo', 'tscompose up -d web');
    const e = await rejection(acquireProjectLock(root, 'tscdemo', { wait: false }));
    expect(e.code).toBe('STATE_LOCKED');
    expect(e.message).toMatch(new RegExp(`^project "tscdemo" is locked by pid ${child.pid} \\(tscompose up -d web\\), since \\d{4}-`));
    expect(e.hint).toContain('wait for that command to finish');
    expect(readLockHolder(root, 'tscdemo')).toMatchObject({ pid: child.pid, command: 'tscompose up -d web' });
  });

  it('waits with a message naming the holder, and gets the lock when the holder releases it', async () => {
    const child = await holder('tscdemo');
    const seen: (LockHolder | undefined)[] = [];
    const started = Date.now();
    const pending = acquireProjectLock(root, 'tscdemo', { wait: true, pollMs: 20, onWait: (h) => seen.push(h), command: 'tscompose down' });
    await new Promise((r) => setTimeout(r, 300));
    child.stdin!.end();
    const lock = await pending;
    try {
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ pid: child.pid, command: 'tscompose up -d' });
      expect(readLockHolder(root, 'tscdemo')).toMatchObject({ pid: process.pid, command: 'tscompose down' });
    } finally {
      lock.release();
    }
    expect(readLockHolder(root, 'tscdemo')).toBeUndefined();
  });

  it('is released by the kernel when the holder is killed with SIGKILL', async () => {
    const child = await holder('tscdemo');
    const pending = acquireProjectLock(root, 'tscdemo', { wait: true, pollMs: 20 });
    child.kill('SIGKILL');
    await once(child, 'exit');
    const lock = await pending;
    lock.release();
  });

  it('gives up after timeoutMs with STATE_LOCKED', async () => {
    await holder('tscdemo');
    const started = Date.now();
    const e = await rejection(acquireProjectLock(root, 'tscdemo', { wait: true, timeoutMs: 300, pollMs: 50 }));
    expect(e.code).toBe('STATE_LOCKED');
    expect(e.message).toMatch(/^timed out after 0\.3s waiting for the lock of project "tscdemo", held by pid \d+/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('stops waiting when aborted', async () => {
    await holder('tscdemo');
    const ac = new AbortController();
    const pending = acquireProjectLock(root, 'tscdemo', { wait: true, pollMs: 20, signal: ac.signal });
    setTimeout(() => ac.abort(new TscError('USAGE', 'interrupted')), 100);
    expect((await rejection(pending)).message).toBe('interrupted');
    const plain = new AbortController();
    plain.abort();
    const e = await rejection(acquireProjectLock(root, 'tscdemo', { wait: true, signal: plain.signal }));
    expect(e.code).toBe('STATE_LOCKED');
    expect(e.message).toMatch(/^stopped waiting for the lock of project "tscdemo", held by pid \d+/);
  });

  it('never blocks one project on another', async () => {
    await holder('tscalpha');
    const lock = await acquireProjectLock(root, 'tscbeta', { wait: false });
    lock.release();
  });

  it('excludes a second holder in the same process too, until released', async () => {
    const first = await acquireProjectLock(root, 'tscdemo', { wait: false });
    expect((await rejection(acquireProjectLock(root, 'tscdemo', { wait: false }))).code).toBe('STATE_LOCKED');
    first.release();
    first.release(); // twice is harmless
    const second = await acquireProjectLock(root, 'tscdemo', { wait: false });
    second.release();
  });

  it('release with remove deletes the file and folder; a waiter on the old file re-opens and stays exclusive', async () => {
    const file = path.join(root, 'projects', 'tscgone', 'lock');
    const first = await acquireProjectLock(root, 'tscgone', { wait: false });
    const waiting = acquireProjectLock(root, 'tscgone', { wait: true, pollMs: 10 });
    await new Promise((r) => setTimeout(r, 50)); // the waiter holds an fd to the old inode
    first.release({ remove: true });
    const second = await waiting;
    // the waiter locked the file that the path names now, so a newcomer is excluded
    expect(fs.existsSync(file)).toBe(true);
    expect(readLockHolder(root, 'tscgone')).toMatchObject({ pid: process.pid });
    expect((await rejection(acquireProjectLock(root, 'tscgone', { wait: false }))).code).toBe('STATE_LOCKED');
    second.release({ remove: true });
    expect(fs.existsSync(path.dirname(file))).toBe(false);
    // a folder with other files keeps them; only the lock goes
    const third = await acquireProjectLock(root, 'tscgone', { wait: false });
    fs.writeFileSync(path.join(root, 'projects', 'tscgone', 'other'), 'x');
    third.release({ remove: true });
    expect(fs.readdirSync(path.dirname(file))).toEqual(['other']);
  });

  it('still reports (and waits) when the holder record is unreadable', async () => {
    const first = await acquireProjectLock(root, 'tscdemo', { wait: false });
    try {
      fs.writeFileSync(first.path, 'garbage');
      const e = await rejection(acquireProjectLock(root, 'tscdemo', { wait: false }));
      expect(e.message).toBe('project "tscdemo" is locked by another tscompose process');
      const seen: unknown[] = [];
      const timedOut = await rejection(acquireProjectLock(root, 'tscdemo', { wait: true, pollMs: 10, timeoutMs: 200, onWait: (h) => seen.push(h) }));
      expect(timedOut.code).toBe('STATE_LOCKED');
      expect(seen).toEqual([undefined]);
    } finally {
      first.release();
    }
  });

  it('keeps every change when processes update one record under the lock concurrently', async () => {
    const script = `
      import { acquireProjectLock, loadProjectState, writeProjectState } from ${JSON.stringify(distEntry('state/index.js'))};
      const [root, project, who] = process.argv.slice(1);
      for (let i = 0; i < 8; i++) {
        const lock = await acquireProjectLock(root, project, { wait: true, pollMs: 5 });
        try {
          const s = await loadProjectState(root, project);
          await new Promise((r) => setTimeout(r, 2));
          const id = who + '-' + i;
          s.containers[id] = { id, name: id, service: who, number: i + 1, oneOff: false, configHash: 'h', definition: {}, image: 'busybox', imageId: 'sha256:x', created: new Date().toISOString() };
          await writeProjectState(root, s);
        } finally {
          lock.release();
        }
      }
    `;
    const runs = ['a', 'b', 'c'].map((who) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script, root, 'tscdemo', who], { stdio: ['ignore', 'ignore', 'pipe'] });
      children.push(child);
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      return once(child, 'exit').then(([code]) => expect(code, err).toBe(0));
    });
    await Promise.all(runs);
    const state = await readProjectState(root, 'tscdemo');
    expect(Object.keys(state!.containers)).toHaveLength(24);
  });

  it('is not inherited by child processes of the holder (the descriptor is close-on-exec)', async () => {
    const child = await holder('tscdemo', 'tscompose up -d', true);
    expect(strayPids).toHaveLength(1);
    child.kill('SIGKILL');
    await once(child, 'exit');
    // the holder's child still runs; had it inherited the descriptor, the lock would still be held
    expect(() => process.kill(strayPids[0]!, 0)).not.toThrow();
    const lock = await acquireProjectLock(root, 'tscdemo', { wait: false });
    lock.release();
  });
});
