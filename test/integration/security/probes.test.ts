/**
 * Escape probes inside a default container (Docker's defaults: 14 capabilities, the default
 * seccomp profile, masked and read-only paths, no user namespace): a static C probe
 * (probe.c, compiled here with the host's gcc) tries each way out and prints the errno it got;
 * every one must fail for Docker's reason. Paths this host's kernel does not have (it is built
 * without sysrq, /proc/kcore, uevent_helper) are expected to be absent (ENOENT) instead.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execInContainer } from '../../../src/engine/index.js';
import { makeHarness, until, type Harness } from '../engine/harness.js';

/** The test's own PID namespace (the host's): the probe refuses to run in it. */
const HOST_PIDNS = String(statSync('/proc/self/ns/pid').ino);

let h: Harness;
let tools: string;
const mounts = () => [{ type: 'bind' as const, source: tools, target: '/tools', readonly: true }];

beforeAll(() => {
  h = makeHarness('probe');
  tools = path.join(h.dir, 'tools');
  mkdirSync(tools);
  // on x86_64 with probe32.c: i386 calls (int $0x80) and x32 calls from the same 64-bit program
  const sources = ['probe.c', ...(process.arch === 'x64' ? ['probe32.c'] : [])].map((f) => path.join(__dirname, f));
  execFileSync('gcc', ['-static', '-O1', '-o', path.join(tools, 'probe'), ...sources]);
});
afterAll(async () => {
  await h?.cleanup();
});

/** "name result" lines → { name: result } */
function parse(out: string): Record<string, string> {
  return Object.fromEntries(
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(0, l.lastIndexOf(' ')), l.slice(l.lastIndexOf(' ') + 1)]),
  );
}

/** A real block device of the host as major:minor (the first in /proc/partitions; sda's 8:0 when none). */
function hostDisk(): string {
  const line = readFileSync('/proc/partitions', 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find((f) => f.length === 4 && /^\d+$/.test(f[0]));
  return line ? `${line[0]}:${line[1]}` : '8:0';
}

const present = (p: string, yes: string) => (existsSync(p) ? yes : 'ENOENT');

/** The running kernel's build configuration (/proc/config.gz, else /boot/config-<release>), or undefined. */
function kernelConfig(): string | undefined {
  try {
    return gunzipSync(readFileSync('/proc/config.gz')).toString();
  } catch {
    return existsSync(`/boot/config-${os.release()}`) ? readFileSync(`/boot/config-${os.release()}`, 'utf8') : undefined;
  }
}

/**
 * 32-bit calls on x86_64: i386 by `int $0x80`, x32 by `syscall` with bit 30. The filter takes
 * both by Docker's rules. A kernel built without the x32 ABI (CONFIG_X86_X32_ABI unset) answers
 * an x32 call the filter lets through with ENOSYS; the filter still runs first, so its refusals
 * (EPERM) show. Where the configuration cannot be read, getpid may be either.
 */
function expected32(): Record<string, string | RegExp> {
  if (process.arch !== 'x64') return {};
  const cfg = kernelConfig();
  const x32 = cfg === undefined ? /^(OK|ENOSYS)$/ : /^CONFIG_X86_X32_ABI=y$/m.test(cfg) ? 'OK' : 'ENOSYS';
  return {
    'i386-getpid': 'OK',
    'i386-write': 'OK',
    'i386-mount': 'EPERM',
    'i386-unshare': 'EPERM',
    'i386-keyctl': 'EPERM',
    'x32-getpid': x32,
    'x32-mount': 'EPERM',
    'x32-unshare': 'EPERM',
    'x32-keyctl': 'EPERM',
  };
}

/** What Docker's defaults give each probe (the README's "Isolation probes" table). */
function expected(): Record<string, string> {
  const caps = '00000000a80425fb'; // Docker's 14: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP
  const masked = [
    '/proc/asound',
    '/proc/acpi',
    '/proc/interrupts',
    '/proc/kcore',
    '/proc/keys',
    '/proc/latency_stats',
    '/proc/timer_list',
    '/proc/timer_stats',
  ];
  masked.push('/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap');
  const readonly = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger', '/sys', '/sys/fs/cgroup'];
  const v1memory = existsSync('/sys/fs/cgroup/memory/notify_on_release');
  return {
    CapBnd: caps,
    CapEff: caps,
    NoNewPrivs: '0',
    Seccomp: '2',
    'write-sysrq-trigger': present('/proc/sysrq-trigger', 'EROFS'),
    'write-proc-sys-hostname': 'EROFS',
    'write-proc-sys-core_pattern': 'EROFS',
    'write-sys-uevent_helper': present('/sys/kernel/uevent_helper', 'EROFS'),
    'write-sys-fs-cgroup': 'EROFS',
    ...Object.fromEntries(masked.map((p) => [`masked:${p}`, present(p, 'EMPTY')])),
    ...Object.fromEntries(readonly.map((p) => [`readonly:${p}`, present(p, 'RO')])),
    'write-notify_on_release': v1memory ? 'EROFS' : 'ENOENT',
    'mknod-disk': 'OK', // CAP_MKNOD is in Docker's set; the device cgroup refuses the open
    'open-disk': 'EPERM',
    'mount-tmpfs': 'EPERM',
    'mount-proc': 'EPERM',
    'mount-bind': 'EPERM',
    'mount-cgroup-v1': 'EPERM',
    'mount-cgroup2': 'EPERM',
    fsopen: 'EPERM',
    open_tree: 'EPERM',
    'write-release_agent': 'ENOENT', // only the hierarchy's root has one; the container sees its own cgroup
    init_module: 'EPERM',
    finit_module: 'EPERM',
    kexec_load: 'EPERM',
    'kill-host-pid': 'ESRCH',
    'ptrace-host-pid': 'ESRCH',
    'unshare-user': 'EPERM',
    'unshare-mount': 'EPERM',
    'unshare-net': 'EPERM',
    'clone-newuser': 'EPERM',
    clone3: 'ENOSYS',
    setns: 'EPERM',
    keyctl: 'EPERM',
    add_key: 'EPERM',
    request_key: 'EPERM',
    bpf: 'EPERM',
    perf_event_open: 'EPERM',
    userfaultfd: 'EPERM',
    open_by_handle_at: 'EPERM',
    'socket-vsock': 'EPERM',
    'personality-addr-no-randomize': 'EPERM',
    reboot: 'EPERM',
    swapon: 'EPERM',
    settimeofday: 'EPERM',
    syslog: 'EPERM',
  };
}

describe('escape probes in a default container', () => {
  it('refuses every probe with the reason Docker gives', async () => {
    const r = await h.run(h.spec({ args: ['/tools/probe', 'all', String(process.pid), hostDisk(), HOST_PIDNS], mounts: mounts() }));
    expect(r.stderr).toBe('');
    const got = parse(r.stdout);
    // PID 1 is the probe itself here: its own file, not ours (the init: true case is below)
    for (const k of ['ptrace-pid1', 'readlink-pid1-exe', 'open-pid1-exe-write']) delete got[k];
    const abi32 = expected32();
    for (const [k, want] of Object.entries(abi32)) {
      if (want instanceof RegExp) expect(got[k], k).toMatch(want);
      else expect(got[k], k).toBe(want);
      delete got[k];
    }
    expect(got).toEqual(expected());
  });

  it('unconfined: the same 32-bit calls reach the kernel (keyctl answered; x32 refused only by a kernel built without it)', async () => {
    if (process.arch !== 'x64') return;
    const r = await h.run(h.spec({ args: ['/tools/probe', 'all', String(process.pid), hostDisk(), HOST_PIDNS], mounts: mounts(), seccomp: 'unconfined' }));
    const got = parse(r.stdout);
    expect(got['i386-getpid']).toBe('OK');
    expect(got['i386-keyctl']).toBe('OK'); // no filter: the session keyring's id
    const x32 = /^CONFIG_X86_X32_ABI=y$/m.test(kernelConfig() ?? '');
    if (kernelConfig() !== undefined) expect(got['x32-keyctl']).toBe(x32 ? 'OK' : 'ENOSYS');
  });

  it("init: true: PID 1 is tscompose's reaper, and no container process can trace it or reach its binary", async () => {
    const r = await h.run(h.spec({ args: ['/tools/probe', 'all', String(process.pid), hostDisk(), HOST_PIDNS], mounts: mounts(), process: { init: true } }));
    const got = parse(r.stdout);
    expect({ ptrace: got['ptrace-pid1'], readlink: got['readlink-pid1-exe'], write: got['open-pid1-exe-write'] }).toEqual({
      ptrace: 'EPERM',
      readlink: 'EACCES',
      write: 'EACCES',
    });
  });

  it('init: true: every thread of the reaper (Node and its helper threads) runs under the filter (TSYNC)', async () => {
    const c = await h.start(h.spec({ args: ['sleep', '30'], process: { init: true } }));
    try {
      await until(() => existsSync(`/proc/${c.pid}/task`) && readdirSync(`/proc/${c.pid}/task`).length > 1, 10_000, 'reaper threads');
      const modes = readdirSync(`/proc/${c.pid}/task`).map((t) => /^Seccomp:\s+(\d)/m.exec(readFileSync(`/proc/${c.pid}/task/${t}/status`, 'utf8'))?.[1]);
      expect(modes.length).toBeGreaterThan(1);
      expect(new Set(modes)).toEqual(new Set(['2']));
    } finally {
      process.kill(c.pid, 'SIGKILL');
      await c.wait(15_000);
    }
  });

  it("exec: the exec stage (tscompose's Node binary, inside the container until its execve) is never reachable through /proc/PID/exe", async () => {
    const node = statSync(process.execPath);
    const s = h.spec({ args: ['/tools/probe', 'exe-watch', `${node.dev}:${node.ino}`, '6', HOST_PIDNS], mounts: mounts(), process: { init: true } });
    const c = await h.start(s);
    await until(() => existsSync(`/proc/${c.pid}/root/tools/probe`), 10_000, 'probe running');
    let execs = 0;
    const end = Date.now() + 3000;
    const devnull = openSync('/dev/null', 'w');
    while (Date.now() < end) {
      const child = await execInContainer(
        { pid: c.pid, cgroupPath: s.cgroupPath },
        { args: ['true'], env: ['PATH=/bin'], tty: false },
        { stdout: devnull, stderr: devnull },
      );
      await new Promise((r) => child.once('exit', r));
      execs++;
    }
    closeSync(devnull);
    const r = await c.wait(15_000);
    expect(execs).toBeGreaterThan(3);
    expect(r.stdout).toMatch(/^watched \d+ hidden [1-9]\d*\n$/);
  });
});
