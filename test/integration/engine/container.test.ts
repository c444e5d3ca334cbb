import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync, copyFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerCgroup, removeContainer, stopContainer, killContainer, pauseContainer, unpauseContainer, isPaused } from '../../../src/engine/index.js';
import { isTscError } from '../../../src/common/errors.js';
import { hostMountsWith, makeHarness, readPty, until, type Harness } from './harness.js';
import { openPty, setWindowSize } from '../../../src/sys/pty.js';
import { closeSync, writeSync } from 'node:fs';
import { discardInitStage, prepareInitStage, startContainer } from '../../../src/engine/index.js';

let h: Harness;

beforeAll(() => {
  h = makeHarness('ctr');
});
afterAll(async () => {
  await h?.cleanup();
});

describe('isolation', () => {
  it('runs the command as PID 1 with no foreign processes', async () => {
    const r = await h.run(h.spec({ args: ['sh', '-c', 'echo pid=$$; ls /proc | grep -E "^[0-9]+$" | sort -n | tr "\\n" " "'] }));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('pid=1\n');
    const pids = r.stdout.split('\n')[1].trim().split(' ').map(Number);
    // PID 1 (sh) plus the pipeline's own processes, nothing from the host.
    expect(pids[0]).toBe(1);
    expect(pids.length).toBeLessThanOrEqual(5);
    expect(Math.max(...pids)).toBeLessThan(20);
  });

  it('sets the hostname and bind-mounts /etc/hosts, /etc/hostname, /etc/resolv.conf', async () => {
    const s = h.spec({ hostname: 'tsc-web-1', args: ['sh', '-c', 'hostname; cat /etc/hostname /etc/resolv.conf /etc/hosts'] });
    s.etc = { hostname: 'tsc-web-1\n', resolvConf: 'nameserver 10.9.8.7\n', hosts: '127.0.0.1 localhost\n10.1.2.3 db\n' };
    const r = await h.run(s);
    expect(r.stdout).toBe('tsc-web-1\ntsc-web-1\nnameserver 10.9.8.7\n127.0.0.1 localhost\n10.1.2.3 db\n');
  });

  it('keeps mounts made inside the container invisible to the host', async () => {
    const s = h.spec({
      args: ['sh', '-c', 'mkdir -p /mnt/tscinside && mount -t tmpfs tscinside /mnt/tscinside && echo mounted && sleep 30'],
      process: { capabilities: ['SYS_ADMIN', 'CHOWN', 'DAC_OVERRIDE', 'SETUID', 'SETGID'] },
    });
    const c = await h.start(s);
    const deadline = Date.now() + 15_000;
    while (!readFileSync(path.join(h.dir, `${s.id}.out`), 'utf8').includes('mounted') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(readFileSync(path.join(h.dir, `${s.id}.out`), 'utf8')).toContain('mounted');
    // Neither the container's own mount nor its root, /proc, /dev appear in the host table.
    expect(hostMountsWith('tscinside')).toEqual([]);
    expect(hostMountsWith(s.bundleDir)).toEqual([]);
    const inside = readFileSync(`/proc/${c.pid}/mountinfo`, 'utf8');
    expect(inside).toContain('tscinside');
    await stopContainer(s, c.pid, 'SIGTERM', 200);
  });

  it('makes the host filesystem unreachable after pivot_root (paths, /proc/1/root, chroot escape)', async () => {
    const marker = path.join(h.dir, 'host-marker');
    writeFileSync(marker, 'host secret');
    // A static helper performing the classic chroot escape: chroot into a subdir while keeping
    // a descriptor of the old root, fchdir out, climb "..", chroot "." and look for the marker.
    const src = path.join(h.dir, 'escape.c');
    writeFileSync(
      src,
      `#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
int main(int argc, char **argv) {
  mkdir("/tmp/jail", 0755);
  int fd = open("/", O_RDONLY);
  if (chroot("/tmp/jail") != 0) { perror("chroot"); return 2; }
  fchdir(fd);
  for (int i = 0; i < 64; i++) chdir("..");
  chroot(".");
  puts(access(argv[1], F_OK) == 0 ? "ESCAPED" : "CONTAINED");
  return 0;
}
`,
    );
    const bin = path.join(h.dir, 'escape');
    execFileSync('gcc', ['-static', '-O1', '-o', bin, src]);
    const tools = path.join(h.dir, 'tools');
    mkdirSync(tools, { recursive: true });
    copyFileSync(bin, path.join(tools, 'escape'));
    chmodSync(path.join(tools, 'escape'), 0o755);
    const s = h.spec({
      args: [
        'sh',
        '-c',
        `cat ${marker} 2>/dev/null || echo nofile; cat /proc/1/root${marker} 2>/dev/null || echo noproc; cd /../../..; ls -d ${h.dir} 2>/dev/null || echo noclimb; /tools/escape ${marker}`,
      ],
      mounts: [{ type: 'bind', source: tools, target: '/tools', readonly: true }],
    });
    const r = await h.run(s);
    expect(r.stdout).toBe('nofile\nnoproc\nnoclimb\nCONTAINED\n');
    // The helper does escape a plain chroot on the host: the test checks something real.
    expect(execFileSync(bin, [marker], { encoding: 'utf8', cwd: '/' })).toBe('ESCAPED\n');
  });

  it("gives Docker's default capability set, and none to a non-root user", async () => {
    const r = await h.run(h.spec({ args: ['sh', '-c', 'grep -E "^Cap(Eff|Prm|Bnd|Amb)" /proc/self/status'] }));
    expect(r.stdout).toBe('CapPrm:\t00000000a80425fb\nCapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\nCapAmb:\t0000000000000000\n');
    const u = await h.run(h.spec({ args: ['sh', '-c', 'id; grep -E "^Cap(Eff|Bnd)" /proc/self/status'], process: { user: 'app' } }));
    expect(u.stdout).toBe('uid=1000(app) gid=1000(app) groups=1000(app),2000(extra)\nCapEff:\t0000000000000000\nCapBnd:\t00000000a80425fb\n');
  });

  it('resolves uid:gid and group_add, and sets no_new_privileges', async () => {
    const r = await h.run(
      h.spec({
        args: ['sh', '-c', 'id; grep NoNewPrivs /proc/self/status'],
        process: { user: '4242:65534', additionalGroups: ['extra'], noNewPrivileges: true },
      }),
    );
    expect(r.stdout).toBe('uid=4242 gid=65534(nogroup) groups=2000(extra),65534(nogroup)\nNoNewPrivs:\t1\n');
  });

  it('gives a privileged container every capability and the host devices', async () => {
    const r = await h.run(
      h.spec({
        privileged: true,
        args: [
          'sh',
          '-c',
          'grep CapEff /proc/self/status; test -e /dev/kmsg && echo hostdev; grep -E "^sysfs /sys " /proc/mounts | cut -d" " -f4 | cut -d, -f1; grep -c " /proc/" /proc/mounts',
        ],
      }),
    );
    const own = /CapEff:\s+([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1];
    // every capability, host devices, /sys read-write, no masked or read-only /proc paths
    expect(r.stdout).toBe(`CapEff:\t${own}\nhostdev\nrw\n0\n`);
  });

  it('masks /proc paths, keeps /proc/sys and /sys read-only and builds a minimal /dev', async () => {
    const shm = await h.run(h.spec({ args: ['sh', '-c', 'df -k /dev/shm | tail -1 | awk "{print \\$2}"'], shmSize: 16 << 20 }));
    expect(shm.stdout).toBe('16384\n');
    const r = await h.run(
      h.spec({
        args: [
          'sh',
          '-c',
          'wc -c < /proc/keys; echo 1 > /proc/sys/kernel/domainname 2>/dev/null || echo rosys; touch /sys/x 2>/dev/null || echo rosys2; ls /dev | tr "\\n" " "',
        ],
      }),
    );
    expect(r.stdout).toBe('0\nrosys\nrosys2\nfd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero ');
  });
});

describe('filesystem', () => {
  it('mounts a read-only bind read-only and a rw bind writable', async () => {
    const ro = path.join(h.dir, 'ro-src');
    const rw = path.join(h.dir, 'rw-src');
    mkdirSync(ro);
    writeFileSync(path.join(ro, 'f'), 'data');
    const r = await h.run(
      h.spec({
        args: ['sh', '-c', 'cat /ro/f; touch /ro/new 2>&1 || echo denied; echo hi > /rw/out; cat /rw/out'],
        mounts: [
          { type: 'bind', source: ro, target: '/ro', readonly: true },
          { type: 'bind', source: rw, target: '/rw', readonly: false, createHostPath: true },
        ],
      }),
    );
    expect(r.stdout).toMatch(/^data.*Read-only file system\n/s);
    expect(existsSync(path.join(ro, 'new'))).toBe(false);
    expect(readFileSync(path.join(rw, 'out'), 'utf8')).toBe('hi\n');
  });

  it('mounts a tmpfs with size and mode, and honours a read-only root', async () => {
    const s = h.spec({
      args: [
        'sh',
        '-c',
        'df -k /scratch | tail -1 | awk "{print \\$2}"; stat -c %a /scratch; touch /rootfile 2>/dev/null || echo roroot; touch /scratch/ok && echo tmpok',
      ],
      mounts: [{ type: 'tmpfs', target: '/scratch', size: 8 * 1024 * 1024, mode: 0o700 }],
    });
    s.rootfs.readonly = true;
    const r = await h.run(s);
    expect(r.stdout).toBe('8192\n700\nroroot\ntmpok\n');
  });

  it('keeps the container filesystem in the bundle upper dir, never in the image layer', async () => {
    const s = h.spec({ args: ['sh', '-c', 'echo x > /etc/newfile'] });
    await h.run(s);
    expect(existsSync(path.join(h.rootfs, 'etc/newfile'))).toBe(false);
    expect(readFileSync(path.join(s.bundleDir, 'upper/etc/newfile'), 'utf8')).toBe('x\n');
  });

  it('stacks several layers top-most first, also when their paths exceed a page of mount options', async () => {
    const layers: string[] = [];
    for (let i = 0; i < 45; i++) {
      const d = path.join(h.dir, 'layers', `${String(i).padStart(2, '0')}${'a'.repeat(62)}`, 'diff');
      mkdirSync(path.join(d, 'etc'), { recursive: true });
      writeFileSync(path.join(d, 'etc', `layer${i}`), String(i));
      writeFileSync(path.join(d, 'etc', 'motd'), `from layer ${i}\n`);
      layers.push(d);
    }
    const all = [...layers, h.rootfs];
    expect(all.join(':').length).toBeGreaterThan(4096);
    const s = h.spec({ args: ['sh', '-c', 'cat /etc/motd; ls /etc | grep -c ^layer'] });
    s.rootfs.lowerDirs = all;
    const r = await h.run(s);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('from layer 0\n45\n');
  });
});

describe('devices', () => {
  it('refuses devices outside the default list, and allows a mapped one', async () => {
    const probe = 'mknod /tmp/fuse c 10 229 && { (: <>/tmp/fuse) 2>/dev/null && echo opened || echo refused; }';
    const def = await h.run(h.spec({ args: ['sh', '-c', probe] }));
    // Enforced by the v1 devices controller here (an eBPF program on pure cgroup v2).
    expect(def.stdout).toBe('refused\n');
    const mapped = await h.run(
      h.spec({
        args: ['sh', '-c', `ls -l /dev/fuse | cut -c1-10; ${probe}`],
        devices: [{ hostPath: '/dev/fuse', permissions: 'rwm' }],
      }),
    );
    expect(mapped.stdout).toBe('crw-------\nopened\n');
    await expect(h.start(h.spec({ devices: [{ hostPath: '/dev/tsc-none' }] }))).rejects.toMatchObject({
      code: 'ENGINE_SETUP',
      message: expect.stringContaining('/dev/tsc-none does not exist'),
    });
  });
});

describe('seccomp', () => {
  it('refuses Docker-refused syscalls by default, not when unconfined or privileged', async () => {
    const src = path.join(h.dir, 'addkey.c');
    writeFileSync(
      src,
      `#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
  long r = syscall(SYS_add_key, "user", "tsc-probe", "x", 1, -2);
  printf("%s\\n", r >= 0 ? "allowed" : (errno == EPERM ? "EPERM" : strerror(errno)));
  return 0;
}
`,
    );
    const tools = path.join(h.dir, 'seccomp-tools');
    mkdirSync(tools, { recursive: true });
    execFileSync('gcc', ['-static', '-O1', '-o', path.join(tools, 'addkey'), src]);
    const mounts = [{ type: 'bind' as const, source: tools, target: '/tools', readonly: true }];
    const cmd = ['sh', '-c', 'grep -E "^Seccomp:" /proc/self/status; /tools/addkey'];
    const def = await h.run(h.spec({ args: cmd, mounts }));
    expect(def.stdout).toBe('Seccomp:\t2\nEPERM\n');
    const unconfined = await h.run(h.spec({ args: cmd, mounts, seccomp: 'unconfined' }));
    expect(unconfined.stdout).toBe('Seccomp:\t0\nallowed\n');
    const priv = await h.run(h.spec({ args: cmd, mounts, privileged: true }));
    expect(priv.stdout).toBe('Seccomp:\t0\nallowed\n');
  });
});

describe('terminal', () => {
  it('runs a tty: true command on a pty as its controlling terminal', async () => {
    const pty = openPty();
    setWindowSize(pty.master, 33, 101);
    const s = h.spec({ args: ['sh', '-c', 'test -t 0 && test -t 1 && echo isatty; stty size; ps -o pid,tty | tail -1'], process: { tty: true } });
    let started;
    try {
      started = await startContainer(s, { stdin: pty.slave, stdout: pty.slave, stderr: pty.slave });
    } finally {
      closeSync(pty.slave);
    }
    const out = await readPty(pty.master, 15_000, () => killContainer(s, 'SIGKILL'));
    closeSync(pty.master);
    expect(out).toMatch(/^isatty\n33 101\n\s*\d+\s+[^?\s]+\n$/);
    if (started.child.exitCode === null) await new Promise((r) => started.child.once('exit', r));
  });

  it("with init: true, gives the terminal's foreground to the command", async () => {
    const pty = openPty();
    // Reading the terminal from a background group would stop (SIGTTIN) or fail (EIO).
    const s = h.spec({ args: ['sh', '-c', 'test -t 0 && echo isatty; read x; echo "got $x"'], process: { tty: true, init: true } });
    let started;
    try {
      started = await startContainer(s, { stdin: pty.slave, stdout: pty.slave, stderr: pty.slave });
    } finally {
      closeSync(pty.slave);
    }
    writeSync(pty.master, 'hello\n');
    const out = await readPty(pty.master, 15_000, () => killContainer(s, 'SIGKILL'));
    closeSync(pty.master);
    expect(out).toContain('isatty\n');
    expect(out).toContain('got hello\n');
    expect(started.child.exitCode ?? (await new Promise((r) => started.child.once('exit', r)))).toBe(0);
  });
});

describe('network namespaces', () => {
  it('joins a namespace given by path, or shares the host one', async () => {
    const a = h.spec({ args: ['sleep', '30'] });
    const ca = await h.start(a);
    const want = execFileSync('readlink', [`/proc/${ca.pid}/ns/net`], { encoding: 'utf8' });
    const r = await h.run(h.spec({ args: ['readlink', '/proc/self/ns/net'], netns: { kind: 'path', path: `/proc/${ca.pid}/ns/net` } }));
    expect(r.stdout).toBe(want);
    const host = await h.run(h.spec({ args: ['readlink', '/proc/self/ns/net'], netns: { kind: 'host' } }));
    expect(host.stdout).toBe(execFileSync('readlink', ['/proc/self/ns/net'], { encoding: 'utf8' }));
    await stopContainer(a, ca.pid, 'SIGKILL', 0);
  });
});

describe('process', () => {
  it('passes env, working dir (created when missing) and the exit code', async () => {
    const r = await h.run(
      h.spec({ args: ['sh', '-c', 'echo $FOO $HOME $HOSTNAME; pwd; exit 7'], process: { env: ['FOO=bar', 'PATH=/bin'], cwd: '/work/dir' } }),
    );
    expect(r.stdout).toBe('bar /root tsc-box\n/work/dir\n');
    expect(r.code).toBe(7);
  });

  it('runs a command given relative to the working directory', async () => {
    const app = path.join(h.dir, 'app-src');
    mkdirSync(app);
    writeFileSync(path.join(app, 'run.sh'), '#!/bin/sh\necho ran from $(pwd)\n', { mode: 0o755 });
    const r = await h.run(h.spec({ args: ['./run.sh'], process: { cwd: '/app' }, mounts: [{ type: 'bind', source: app, target: '/app', readonly: true }] }));
    expect(r.stdout).toBe('ran from /app\n');
  });

  it('lowers rlimits and reports a limit that cannot be raised', async () => {
    const r = await h.run(h.spec({ args: ['sh', '-c', 'ulimit -n; ulimit -Hn'], process: { rlimits: [{ name: 'nofile', soft: 512, hard: 1024 }] } }));
    expect(r.stdout).toBe('512\n1024\n');
    // Above fs.nr_open no process may go, whatever its capabilities.
    const over = Number(readFileSync('/proc/sys/fs/nr_open', 'utf8')) + 1024;
    const bad = h.spec({ process: { rlimits: [{ name: 'nofile', soft: over, hard: over }] } });
    await expect(h.start(bad)).rejects.toMatchObject({
      code: 'ENGINE_SETUP',
      message: expect.stringContaining(`ulimit nofile=${over}`),
      hint: expect.stringContaining('CAP_SYS_RESOURCE'),
    });
  });

  it('applies namespaced sysctls and refuses host ones', async () => {
    const r = await h.run(h.spec({ args: ['cat', '/proc/sys/net/core/somaxconn'], sysctls: { 'net.core.somaxconn': '1234' } }));
    expect(r.stdout).toBe('1234\n');
    await expect(h.start(h.spec({ sysctls: { 'vm.swappiness': '10' } }))).rejects.toMatchObject({
      code: 'ENGINE_SETUP',
      message: expect.stringContaining('not namespaced'),
    });
  });

  it('gives network_mode none only a loopback interface', async () => {
    const r = await h.run(h.spec({ args: ['sh', '-c', 'ls /sys/class/net'] }));
    expect(r.stdout).toBe('lo\n');
  });

  it('turns a missing command into a clear ENGINE_SETUP error and leaves no cgroup', async () => {
    const s = h.spec({ args: ['no-such-command-tsc'] });
    const err = await h.start(s).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isTscError(err)).toBe(true);
    expect((err as Error).message).toMatch(new RegExp(`container ${s.id}: setup failed at step "exec": .*no-such-command-tsc.*not found`));
    expect(containerCgroup(s).exists()).toBe(false);
  });

  it('starts several containers concurrently, each PID 1 of its own namespace', async () => {
    const specs = Array.from({ length: 6 }, () => h.spec({ args: ['sh', '-c', 'echo $$; readlink /proc/1/ns/pid'] }));
    const results = await Promise.all(specs.map((s) => h.run(s)));
    const nsIds = new Set<string>();
    for (const r of results) {
      const [pid, ns] = r.stdout.trim().split('\n');
      expect(pid).toBe('1');
      nsIds.add(ns);
    }
    expect(nsIds.size).toBe(6);
    expect(readFileSync('/proc/self/status', 'utf8')).toMatch(/NSpid:\s+\d+\n/); // the test process is still in the host ns
  });
});

describe('lifecycle', () => {
  it('stops a container that ignores SIGTERM with SIGKILL after the grace period; the cgroup is then empty', async () => {
    const s = h.spec({ args: ['sleep', '1000'] });
    const c = await h.start(s);
    const cg = containerCgroup(s);
    expect(cg.pids()).toContain(c.pid);
    const t0 = Date.now();
    await stopContainer(s, c.pid, 'SIGTERM', 300);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(cg.isEmpty()).toBe(true);
    const r = await c.wait();
    expect(r.signal).toBe('SIGKILL');
  });

  it('stops a container that handles SIGTERM without waiting for the grace period', async () => {
    const s = h.spec({ args: ['sh', '-c', 'trap "exit 3" TERM; echo ready; while :; do sleep 0.1; done'] });
    const c = await h.start(s);
    await until(() => readFileSync(path.join(h.dir, `${s.id}.out`), 'utf8').includes('ready'), 15_000, 'the trap');
    const t0 = Date.now();
    await stopContainer(s, c.pid, 'SIGTERM', 10_000);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect((await c.wait()).code).toBe(3);
  });

  it('kills every process of the container through its cgroup', async () => {
    const s = h.spec({ args: ['sh', '-c', 'sleep 1000 & sleep 1000 & wait'] });
    const c = await h.start(s);
    const cg = containerCgroup(s);
    const deadline = Date.now() + 15_000;
    while (cg.pids().length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(cg.pids().length).toBe(3);
    const members = cg.pids();
    // Killing PID 1 takes the namespace down with it, so later members may already be gone.
    expect(killContainer(s, 'SIGKILL')).toBeGreaterThanOrEqual(1);
    expect((await c.wait()).signal).toBe('SIGKILL');
    const deadline2 = Date.now() + 15_000;
    while (!cg.isEmpty() && Date.now() < deadline2) await new Promise((r) => setTimeout(r, 20));
    expect(cg.isEmpty()).toBe(true);
    for (const p of members) expect(existsSync(`/proc/${p}`) && !readFileSync(`/proc/${p}/stat`, 'utf8').includes(') Z')).toBe(false);
  });

  it('leaves no process, mount or cgroup behind after remove', async () => {
    const s = h.spec({ args: ['sh', '-c', 'sleep 1000 & exec sleep 1000'], resources: { memory: 64 << 20, pidsLimit: 100, cpuShares: 512 } });
    const c = await h.start(s);
    const cg = containerCgroup(s);
    const dirs = cg.dirs();
    expect(dirs.every((d) => existsSync(d))).toBe(true);
    await removeContainer(s);
    expect(dirs.some((d) => existsSync(d))).toBe(false);
    expect((await c.wait()).signal).toBe('SIGKILL');
    expect(hostMountsWith(s.bundleDir)).toEqual([]);
    expect(existsSync(path.join(s.bundleDir, 'upper'))).toBe(false);
    const leftover = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes(s.id));
    expect(leftover).toEqual([]);
  });

  it('init: true runs a reaper as PID 1 that reaps orphans, forwards signals and passes the exit code', async () => {
    const r = await h.run(
      h.spec({
        args: ['sh', '-c', '(sleep 0.1 &); sleep 0.5; echo pid=$$; ps -o stat | grep -c "^Z"; exit 4'],
        process: { init: true },
      }),
    );
    expect(r.stdout).toMatch(/^pid=(\d+)\n0\n$/);
    expect(r.stdout).not.toContain('pid=1\n'); // the command is a child of the reaper
    expect(r.code).toBe(4);
    const s = h.spec({ args: ['sh', '-c', 'trap "exit 42" TERM; echo ready; while :; do sleep 0.1; done'], process: { init: true } });
    const c = await h.start(s);
    await until(() => readFileSync(path.join(h.dir, `${s.id}.out`), 'utf8').includes('ready'), 15_000, 'the trap');
    await stopContainer(s, c.pid, 'SIGTERM', 10_000);
    expect((await c.wait()).code).toBe(42);
  });

  it('starts a container from an init stage prepared ahead of time, and ends an unused one', async () => {
    const s = h.spec({ args: ['sh', '-c', 'echo pid=$$; ls /proc/self/fd | tr "\\n" " "; exit 7'] });
    const out = path.join(h.dir, `${s.id}.prep.out`);
    const fd = openSync(out, 'w');
    const prepared = prepareInitStage({ stdout: fd, stderr: fd });
    closeSync(fd);
    await new Promise((r) => setTimeout(r, 300)); // booted and waiting for its config
    expect(prepared.child.exitCode).toBeNull();
    const started = await startContainer(s, prepared.io, { prepared });
    const exit = await new Promise<number | null>((r) => {
      if (started.child.exitCode !== null) r(started.child.exitCode);
      else started.child.once('exit', (code) => r(code));
    });
    expect(exit).toBe(7);
    // PID 1 of its own namespace, and neither the status nor the config channel leaks in
    expect(readFileSync(out, 'utf8')).toMatch(/^pid=1\n0 1 2 3 $/);
    await removeContainer(s);

    const unused = prepareInitStage({ stdout: 1, stderr: 2 });
    await discardInitStage(unused);
    expect(unused.child.signalCode).toBe('SIGKILL');
    // a caller that goes away without handing over a config: the stage exits by itself
    const orphan = prepareInitStage({ stdout: 1, stderr: 2 });
    (orphan.child.stdio[4] as NodeJS.WritableStream).end();
    const code = await new Promise<number | null>((r) => orphan.child.once('exit', (c) => r(c)));
    expect(code).toBe(0);
  });

  it('starts the command with default signal dispositions and no leaked descriptors', async () => {
    const r = await h.run(h.spec({ args: ['sh', '-c', 'grep SigIgn /proc/self/status; ls /proc/self/fd | tr "\\n" " "'] }));
    expect(r.stdout).toMatch(/^SigIgn:\t0+\n0 1 2 3 $/); // 3 is ls's own directory handle
  });

  it('pauses and unpauses every process of a container', async () => {
    // rename makes each update atomic, so a read never sees a truncated file
    const s = h.spec({ args: ['sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i > /tmp/next; mv /tmp/next /tmp/count; sleep 0.02; done'] });
    const c = await h.start(s);
    const count = () => {
      try {
        return Number(readFileSync(`/proc/${c.pid}/root/tmp/count`, 'utf8').trim() || 0);
      } catch {
        return 0;
      }
    };
    const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const deadline = Date.now() + 10_000;
    while (count() < 3 && Date.now() < deadline) await wait(20);
    await pauseContainer(s);
    expect(isPaused(s)).toBe(true);
    const frozenAt = count();
    await wait(400);
    expect(count()).toBe(frozenAt);
    await unpauseContainer(s);
    expect(isPaused(s)).toBe(false);
    const deadline2 = Date.now() + 10_000;
    while (count() <= frozenAt && Date.now() < deadline2) await wait(20);
    expect(count()).toBeGreaterThan(frozenAt);
    await pauseContainer(s);
    // a paused container still stops (the kill thaws it)
    await stopContainer(s, c.pid, 'SIGTERM', 100);
    expect(containerCgroup(s).isEmpty()).toBe(true);
  });
});
