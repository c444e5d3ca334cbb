import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { openPty } from '../../../src/sys/pty.js';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerCgroup, ensureVolume, execInContainer, killContainer, removeVolume, stopContainer, type ExecProcessSpec } from '../../../src/engine/index.js';
import { makeHarness, readPty, until, type Harness, type Running } from './harness.js';

let h: Harness;
beforeAll(() => {
  h = makeHarness('exec');
});
afterAll(async () => {
  await h?.cleanup();
});

async function execOut(c: Running, cgroupPath: string, proc: Partial<ExecProcessSpec> & { args: string[] }): Promise<{ code: number | null; out: string }> {
  const f = path.join(h.dir, `exec-${Date.now()}-${Math.random()}.out`);
  const fd = openSync(f, 'w');
  let child: ChildProcess;
  try {
    child = await execInContainer({ pid: c.pid, cgroupPath }, { env: ['PATH=/bin'], tty: false, ...proc }, { stdout: fd, stderr: fd });
  } finally {
    closeSync(fd);
  }
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  return { code, out: readFileSync(f, 'utf8') };
}

describe('exec in a running container', () => {
  it('joins every namespace and the cgroup, and passes the exit code through', async () => {
    const s = h.spec({ hostname: 'tsc-exec-host', args: ['sh', '-c', 'echo inside > /tmp/mark; exec sleep 60'] });
    const c = await h.start(s);
    await until(() => existsSync(`/proc/${c.pid}/root/tmp/mark`), 15_000, '/tmp/mark');
    const r = await execOut(c, s.cgroupPath, {
      args: [
        'sh',
        '-c',
        'hostname; cat /tmp/mark; echo $$; ls /sys/class/net; cat /proc/1/cmdline | tr "\\0" " "; echo; cat /proc/self/cgroup | grep -c ":/$"; exit 5',
      ],
    });
    const lines = r.out.split('\n');
    expect(lines[0]).toBe('tsc-exec-host');
    expect(lines[1]).toBe('inside');
    expect(Number(lines[2])).toBeGreaterThan(1); // a new pid in the container's namespace
    expect(Number(lines[2])).toBeLessThan(50);
    expect(lines[3]).toBe('lo');
    expect(lines[4]).toBe('sleep 60 ');
    expect(Number(lines[5])).toBeGreaterThan(0);
    expect(r.code).toBe(5);
    // while it runs, the exec'd process is a member of the container's cgroup
    const long = await execInContainer({ pid: c.pid, cgroupPath: s.cgroupPath }, { args: ['sleep', '30'], env: [], tty: false }, { stdout: 1, stderr: 2 });
    const longExit = new Promise((r) => long.once('exit', (code, sig) => r(sig)));
    expect(containerCgroup(s).pids()).toContain(long.pid);
    await stopContainer(s, c.pid, 'SIGKILL', 0);
    expect(await longExit).toBe('SIGKILL');
  });

  it('runs as another user with Docker capabilities', async () => {
    const s = h.spec({ args: ['sleep', '60'] });
    const c = await h.start(s);
    const r = await execOut(c, s.cgroupPath, { args: ['sh', '-c', 'id -u; grep -E "^(CapBnd|Seccomp):" /proc/self/status'], user: 'app', cwd: '/tmp' });
    expect(r.out).toBe('1000\nCapBnd:\t00000000a80425fb\nSeccomp:\t2\n');
    await stopContainer(s, c.pid, 'SIGKILL', 0);
    // an unconfined container gets unconfined execs
    const u = h.spec({ args: ['sleep', '60'], seccomp: 'unconfined' });
    const cu = await h.start(u);
    expect((await execOut(cu, u.cgroupPath, { args: ['grep', '^Seccomp:', '/proc/self/status'] })).out).toBe('Seccomp:\t0\n');
    await stopContainer(u, cu.pid, 'SIGKILL', 0);
  });

  it('reports a missing command and a stopped container clearly', async () => {
    const s = h.spec({ args: ['sleep', '60'] });
    const c = await h.start(s);
    await expect(
      execInContainer({ pid: c.pid, cgroupPath: s.cgroupPath, id: s.id }, { args: ['nope-tsc'], env: ['PATH=/bin'], tty: false }, { stdout: 1, stderr: 2 }),
    ).rejects.toMatchObject({ code: 'ENGINE_EXEC', message: expect.stringContaining('nope-tsc') });
    await stopContainer(s, c.pid, 'SIGKILL', 0);
    await c.wait();
    await expect(
      execInContainer({ pid: c.pid, cgroupPath: s.cgroupPath, id: s.id }, { args: ['true'], env: [], tty: false }, { stdout: 1, stderr: 2 }),
    ).rejects.toMatchObject({ code: 'ENGINE_NOT_RUNNING' });
  });
});

describe('exec with a terminal', () => {
  it("gives the exec'd command a controlling terminal", async () => {
    const s = h.spec({ args: ['sleep', '60'] });
    const c = await h.start(s);
    const pty = openPty();
    let child: ChildProcess;
    try {
      child = await execInContainer(
        { pid: c.pid, cgroupPath: s.cgroupPath },
        { args: ['sh', '-c', 'test -t 0 && echo tty; echo $TERM'], env: ['PATH=/bin', 'TERM=vt100'], tty: true },
        { stdin: pty.slave, stdout: pty.slave, stderr: pty.slave },
      );
    } finally {
      closeSync(pty.slave);
    }
    const out = await readPty(pty.master, 15_000, () => killContainer(s, 'SIGKILL'));
    closeSync(pty.master);
    expect(out).toBe('tty\nvt100\n');
    if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    expect(child.exitCode).toBe(0);
    await stopContainer(s, c.pid, 'SIGKILL', 0);
  });
});

describe('named volumes', () => {
  it('keeps data across container removal until the volume is removed', async () => {
    const root = path.join(h.dir, 'state');
    const v = ensureVolume('tscproj_data', { root });
    expect(v.created).toBe(true);
    const a = h.spec({ args: ['sh', '-c', 'echo persisted > /data/f'], mounts: [{ type: 'bind', source: v.mountpoint, target: '/data', readonly: false }] });
    await h.run(a);
    const again = ensureVolume('tscproj_data', { root });
    expect(again.created).toBe(false);
    const b = h.spec({ args: ['cat', '/data/f'], mounts: [{ type: 'bind', source: again.mountpoint, target: '/data', readonly: false }] });
    expect((await h.run(b)).stdout).toBe('persisted\n');
    expect(removeVolume('tscproj_data', root)).toBe(true);
    expect(ensureVolume('tscproj_data', { root }).created).toBe(true);
  });
});
