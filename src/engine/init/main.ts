/**
 * The init stage: PID 1 of a new PID namespace, started by the engine with the bundle's
 * config path as argv[2] and the status channel on fd 3. It creates the remaining namespaces,
 * builds the container's root (overlay, /proc, /dev, /sys, /etc files, volumes), pivot_roots
 * into it, sets hostname, sysctls, rlimits, joins the cgroup, drops to the configured user and
 * capabilities and execve()s the command. Every step is a plain syscall on the main thread
 * (sync fs only: libuv's pool threads stay in the host's mount namespace).
 */
import {
  chmodSync,
  chownSync,
  existsSync,
  unlinkSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import {
  CLONE_NEWCGROUP,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWUTS,
  MNT_DETACH,
  MS_BIND,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_REMOUNT,
  MS_SHARED,
  MS_SLAVE,
  MS_STRICTATIME,
  O_CLOEXEC,
  O_RDONLY,
  S_IFBLK,
  S_IFCHR,
  WNOHANG,
  chdir,
  close,
  execve,
  makedev,
  mknod,
  mount,
  open,
  pivotRoot,
  posixSpawn,
  resetSignalDispositions,
  cloexecFrom,
  setCloexec,
  setdomainname,
  sethostname,
  setns,
  tcsetpgrp,
  umount2,
  unshare,
  waitpid,
} from '../../sys/syscalls.js';
import type { InitConfig } from '../protocol.js';
import { CONFIG_FD, CONFIG_FROM_FD, STATUS_FD } from '../protocol.js';
import type { BindMount, ContainerSpec, Mount, TmpfsMount } from '../spec.js';
import { makeTarget, resolveInRoot } from './paths.js';
import { applyCredentials, applyRlimits, ensureCwd, enterCwd, finalEnv, lookPath, prepareStdio, readCredentials } from './process.js';
import { reportFailure, send, step } from './report.js';
import { StepError } from './step.js';
import { checkSysctl } from './sysctl.js';

export const DEFAULT_MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];
export const DEFAULT_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

const DEVICES: Array<[string, number, number]> = [
  ['null', 1, 3],
  ['zero', 1, 5],
  ['full', 1, 7],
  ['random', 1, 8],
  ['urandom', 1, 9],
  ['tty', 5, 0],
];

function mountOverlay(spec: ContainerSpec, rootfs: string): void {
  const upper = path.join(spec.bundleDir, 'upper');
  const work = path.join(spec.bundleDir, 'work');
  const all = [...spec.rootfs.lowerDirs, upper, work];
  for (const p of all) {
    if (/[,:]/.test(p)) throw new StepError('rootfs', `layer path ${p} contains "," or ":", which overlayfs cannot take`);
  }
  let opts = `lowerdir=${spec.rootfs.lowerDirs.join(':')},upperdir=${upper},workdir=${work}`;
  if (opts.length > 3900) {
    // Mount data is limited to one page: use paths relative to their common parent.
    let common = path.dirname(all[0]);
    while (!all.every((p) => p.startsWith(common + '/'))) common = path.dirname(common);
    chdir(common);
    const rel = (p: string) => path.relative(common, p);
    opts = `lowerdir=${spec.rootfs.lowerDirs.map(rel).join(':')},upperdir=${rel(upper)},workdir=${rel(work)}`;
  }
  try {
    mount('overlay', rootfs, 'overlay', 0, opts, 'mount overlay root');
  } catch (e) {
    throw new StepError(
      'rootfs',
      (e as Error).message,
      'the state root must be on a filesystem overlayfs accepts as upper dir (ext4, xfs, btrfs, tmpfs; not overlayfs or NFS), and every layer directory must exist',
    );
  }
}

function setupDev(rootfs: string, privileged: boolean, shmSize: number | undefined): void {
  const dev = makeTarget(rootfs, '/dev', false);
  if (privileged) {
    mount('/dev', dev, null, MS_BIND | MS_REC, null, 'bind host /dev');
    return;
  }
  mount('tmpfs', dev, 'tmpfs', MS_NOSUID | MS_STRICTATIME, 'mode=755,size=65536k', 'mount /dev tmpfs');
  for (const [name, ma, mi] of DEVICES) {
    const p = path.join(dev, name);
    mknod(p, S_IFCHR | 0o666, makedev(ma, mi), `mknod /dev/${name}`);
    chmodSync(p, 0o666);
  }
  mkdirSync(path.join(dev, 'pts'), { mode: 0o755 });
  mount('devpts', path.join(dev, 'pts'), 'devpts', MS_NOSUID | MS_NOEXEC, 'newinstance,ptmxmode=0666,mode=0620,gid=5', 'mount /dev/pts');
  symlinkSync('pts/ptmx', path.join(dev, 'ptmx'));
  mkdirSync(path.join(dev, 'shm'), { mode: 0o1777 });
  mount('shm', path.join(dev, 'shm'), 'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, `mode=1777,size=${shmSize ?? 64 * 1024 * 1024}`, 'mount /dev/shm');
  mkdirSync(path.join(dev, 'mqueue'), { mode: 0o755 });
  mount('mqueue', path.join(dev, 'mqueue'), 'mqueue', MS_NOSUID | MS_NODEV | MS_NOEXEC, null, 'mount /dev/mqueue');
  symlinkSync('/proc/self/fd', path.join(dev, 'fd'));
  symlinkSync('/proc/self/fd/0', path.join(dev, 'stdin'));
  symlinkSync('/proc/self/fd/1', path.join(dev, 'stdout'));
  symlinkSync('/proc/self/fd/2', path.join(dev, 'stderr'));
}

const PROPAGATION: Record<string, number> = {
  rprivate: MS_REC | MS_PRIVATE,
  private: MS_PRIVATE,
  rshared: MS_REC | MS_SHARED,
  shared: MS_SHARED,
  rslave: MS_REC | MS_SLAVE,
  slave: MS_SLAVE,
};

function mountBind(rootfs: string, m: BindMount): void {
  let st;
  try {
    st = statSync(m.source);
  } catch {
    throw new StepError('volumes', `bind source ${m.source} does not exist (target ${m.target})`);
  }
  const target = makeTarget(rootfs, m.target, !st.isDirectory());
  mount(m.source, target, null, MS_BIND | MS_REC, null, `bind ${m.source} on ${m.target}`);
  if (m.readonly) {
    mount(null, target, null, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, null, `make ${m.target} read-only`);
  }
  if (m.propagation) mount(null, target, null, PROPAGATION[m.propagation], null, `set ${m.propagation} on ${m.target}`);
}

/** tmpfs flag options: the flag each sets (true) or clears (false). */
const TMPFS_FLAGS: Record<string, [number, boolean]> = {
  ro: [MS_RDONLY, true],
  rw: [MS_RDONLY, false],
  noexec: [MS_NOEXEC, true],
  exec: [MS_NOEXEC, false],
  nosuid: [MS_NOSUID, true],
  suid: [MS_NOSUID, false],
  nodev: [MS_NODEV, true],
  dev: [MS_NODEV, false],
  // MS_NOATIME, MS_NODIRATIME, MS_RELATIME (<sys/mount.h>)
  noatime: [1024, true],
  atime: [1024, false],
  nodiratime: [2048, true],
  diratime: [2048, false],
  relatime: [1 << 21, true],
  strictatime: [MS_STRICTATIME, true],
};

function mountTmpfs(rootfs: string, m: TmpfsMount): void {
  const target = makeTarget(rootfs, m.target, false);
  const opts: string[] = [];
  if (m.size !== undefined) opts.push(`size=${m.size}`);
  opts.push(`mode=${(m.mode ?? 0o1777).toString(8)}`);
  let flags = MS_NOSUID | MS_NODEV | (m.readonly ? MS_RDONLY : 0);
  for (const o of m.options ?? []) {
    const f = TMPFS_FLAGS[o];
    if (f) flags = f[1] ? flags | f[0] : flags & ~f[0];
    else if (/^(uid|gid|nr_inodes|nr_blocks)=\d+[kmg]?$/i.test(o)) opts.push(o);
    else throw new StepError('volumes', `unknown tmpfs option ${JSON.stringify(o)} (target ${m.target})`);
  }
  mount('tmpfs', target, 'tmpfs', flags, opts.join(','), `mount tmpfs on ${m.target}`);
}

/** The container's own cgroup directories, read-only (rw when privileged), under /sys/fs/cgroup. */
function mountCgroupViews(rootfs: string, views: InitConfig['cgroupViews'], privileged: boolean): void {
  if (!views.length) return;
  const base = path.join(rootfs, 'sys/fs/cgroup');
  if (!existsSync(base)) return;
  const ro = privileged ? 0 : MS_RDONLY;
  const bind = (src: string, dst: string) => {
    mount(src, dst, null, MS_BIND, null, `bind ${src}`);
    mount(null, dst, null, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC | ro, null, `remount ${dst}`);
  };
  if (views.length === 1 && views[0].name === '') {
    bind(views[0].dir, base);
    return;
  }
  mount('tmpfs', base, 'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, 'mode=755', 'mount /sys/fs/cgroup tmpfs');
  for (const v of views) {
    const dst = path.join(base, v.name);
    mkdirSync(dst);
    bind(v.dir, dst);
    // co-mounted controllers ("cpu,cpuacct") are also reachable by each name, as on the host
    for (const part of v.name.split(',')) {
      if (part !== v.name && !existsSync(path.join(base, part))) symlinkSync(v.name, path.join(base, part));
    }
  }
  mount(null, base, null, MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, 'mode=755', 'remount /sys/fs/cgroup read-only');
}

function maskPaths(rootfs: string, masked: string[], readonly: string[]): void {
  for (const p of masked) {
    const t = resolveInRoot(rootfs, p);
    if (!existsSync(t)) continue;
    if (statSync(t).isDirectory()) mount('tmpfs', t, 'tmpfs', MS_RDONLY, null, `mask ${p}`);
    else mount(path.join(rootfs, 'dev/null'), t, null, MS_BIND, null, `mask ${p}`);
  }
  for (const p of readonly) {
    const t = resolveInRoot(rootfs, p);
    if (!existsSync(t)) continue;
    mount(t, t, null, MS_BIND | MS_REC, null, `read-only ${p}`);
    mount(null, t, null, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, null, `read-only ${p}`);
  }
}

function depth(p: string): number {
  return p.split('/').filter(Boolean).length;
}

function run(cfg: InitConfig): never {
  const { spec, rootfsDir: rootfs } = cfg;
  const proc = spec.process;

  // Open the cgroup membership files now; they are written just before exec.
  const cgroupFds = step('cgroup', () => cfg.cgroupProcs.map((f) => openSync(f, 'w')));
  for (const fd of cgroupFds) setCloexec(fd, true);

  step('network namespace', () => {
    if (spec.netns.kind === 'none') unshare(CLONE_NEWNET, 'unshare network namespace');
    else if (spec.netns.kind === 'path') {
      const fd = open(spec.netns.path, O_RDONLY | O_CLOEXEC, 0, `open network namespace ${spec.netns.path}`);
      setns(fd, CLONE_NEWNET, `join network namespace ${spec.netns.path}`);
      close(fd);
    }
  });
  step('namespaces', () => unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC, 'unshare mount/uts/ipc namespaces'));
  step('mount propagation', () => mount(null, '/', null, MS_REC | MS_PRIVATE, null, 'make / rprivate'));
  step('rootfs', () => mountOverlay(spec, rootfs));
  step('/proc', () => {
    const t = makeTarget(rootfs, '/proc', false);
    mount('proc', t, 'proc', MS_NOSUID | MS_NODEV | MS_NOEXEC, null, 'mount /proc');
  });
  step('/dev', () => setupDev(rootfs, spec.privileged, spec.shmSize));
  step('devices', () => {
    if (spec.privileged) return; // the host's /dev is there already
    for (const d of cfg.devices ?? []) {
      const target = resolveInRoot(rootfs, d.containerPath);
      makeTarget(rootfs, path.posix.dirname(d.containerPath), false);
      try {
        unlinkSync(target);
      } catch {
        // nothing there
      }
      mknod(target, (d.type === 'c' ? S_IFCHR : S_IFBLK) | d.mode, makedev(d.major, d.minor), `mknod ${d.containerPath}`);
      chmodSync(target, d.mode);
      chownSync(target, d.uid, d.gid);
    }
  });
  step('/sys', () => {
    const t = makeTarget(rootfs, '/sys', false);
    if (spec.privileged) mount('sysfs', t, 'sysfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, null, 'mount /sys');
    else mount('sysfs', t, 'sysfs', MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, null, 'mount /sys read-only');
  });
  step('/sys/fs/cgroup', () => mountCgroupViews(rootfs, cfg.cgroupViews ?? [], spec.privileged));
  step('/etc files', () => {
    for (const name of ['hosts', 'hostname', 'resolv.conf']) {
      const src = path.join(spec.bundleDir, 'etc', name);
      const t = makeTarget(rootfs, `/etc/${name}`, true);
      mount(src, t, null, MS_BIND, null, `bind /etc/${name}`);
    }
  });
  step('volumes', () => {
    const mounts: Mount[] = [...spec.mounts].sort((a, b) => depth(a.target) - depth(b.target));
    for (const m of mounts) {
      if (m.type === 'bind') mountBind(rootfs, m);
      else mountTmpfs(rootfs, m);
    }
  });
  step('sysctls', () => {
    for (const [k, v] of Object.entries(spec.sysctls ?? {})) {
      checkSysctl(k, spec.netns.kind === 'host');
      const f = path.join(rootfs, 'proc/sys', ...k.split('.'));
      try {
        writeFileSync(f, v);
      } catch (e) {
        throw new StepError('sysctls', `sysctl ${k}=${v}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
  });
  if (!spec.privileged) {
    step('masked paths', () => maskPaths(rootfs, spec.maskedPaths ?? DEFAULT_MASKED_PATHS, spec.readonlyPaths ?? DEFAULT_READONLY_PATHS));
  }
  step('pivot_root', () => {
    chdir(rootfs, 'chdir to the new root');
    pivotRoot('.', '.', 'pivot_root');
    umount2('.', MNT_DETACH, 'detach the old root');
    chdir('/', 'chdir /');
  });
  if (spec.rootfs.readonly) {
    step('read-only root', () => mount(null, '/', null, MS_BIND | MS_REMOUNT | MS_RDONLY, null, 'remount / read-only'));
  }
  step('hostname', () => {
    sethostname(spec.hostname, `sethostname ${spec.hostname}`);
    if (spec.domainname) setdomainname(spec.domainname, `setdomainname ${spec.domainname}`);
  });
  step('rlimits', () => applyRlimits(proc.rlimits ?? []));
  const cred = step('user', () => readCredentials(proc));
  const env = finalEnv(proc.env, cred);
  // As Docker: HOSTNAME always, TERM for a terminal, unless the spec sets them.
  if (!env.some((e) => e.startsWith('HOSTNAME='))) env.push(`HOSTNAME=${spec.hostname}`);
  if (proc.tty && !env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm');
  const file = step('exec', () => lookPath(proc.args[0], env, proc.cwd));
  step('cwd', () => ensureCwd(proc.cwd));
  step('cgroup', () => {
    for (const fd of cgroupFds) writeSync(fd, '0');
    for (const fd of cgroupFds) close(fd);
    unshare(CLONE_NEWCGROUP, 'unshare cgroup namespace');
  });
  step('credentials', () => applyCredentials(cred, proc.capabilities, spec.privileged, proc.noNewPrivileges, spec.seccomp));
  enterCwd(proc.cwd);
  step('stdio', () => {
    prepareStdio(proc.tty);
    cloexecFrom(STATUS_FD);
  });
  if (proc.init) return runReaper(file, proc.args, env, proc.tty);
  resetSignalDispositions();
  send({ type: 'exec', pid: process.pid });
  return execve(file, proc.args, env, `exec ${file}`);
}

/** Signals a reaper passes on to the command. */
const FORWARDED: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH', 'SIGCONT', 'SIGALRM'];

/**
 * init: true. Stays PID 1, runs the command as its child (posix_spawn: no JavaScript runs
 * in the child), forwards signals to it, reaps every zombie and exits with the command's code
 * (128 + signal when it was killed).
 */
function runReaper(file: string, args: string[], env: string[], tty: boolean): never {
  resetSignalDispositions();
  // The handlers go in before the command starts: PID 1 of a namespace drops a signal it has
  // no handler for, so a stop sent the moment the command is up would otherwise be lost.
  // Node runs them from the event loop, after this function has set `child`. A caught signal
  // is back to its default in the command after exec.
  let child = 0;
  for (const sig of FORWARDED) {
    process.on(sig, () => {
      try {
        if (child > 0) process.kill(child, sig);
      } catch {
        // already gone
      }
    });
  }
  const reap = () => {
    for (;;) {
      const [pid, status] = waitpid(-1, WNOHANG);
      if (pid <= 0) return;
      if (pid === child) {
        const sig = status & 0x7f;
        process.exit(sig === 0 ? (status >> 8) & 0xff : 128 + sig);
      }
    }
  };
  process.on('SIGCHLD', reap);
  // With a terminal the reaper holds it (session leader) and hands the foreground to the command.
  child = step('exec', () => posixSpawn(file, args, env, `spawn ${file}`, tty));
  if (tty) {
    try {
      tcsetpgrp(0, child, 'give the terminal to the command');
    } catch {
      // stdin is not a terminal
    }
  }
  send({ type: 'exec', pid: child });
  close(STATUS_FD);
  setInterval(reap, 200);
  reap();
  // The event loop keeps running (signal handlers and the interval) until the command exits.
  return undefined as never;
}

/**
 * An init stage started ahead of time waits here, booted, for the path of its config. EOF
 * without one means the container will not start: exit quietly.
 */
function awaitConfigPath(): string {
  const buf = Buffer.alloc(4096);
  let line = '';
  for (;;) {
    let n: number;
    try {
      n = readSync(CONFIG_FD, buf, 0, buf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
        continue;
      }
      if (code === 'EINTR') continue;
      throw e;
    }
    if (n === 0) process.exit(0);
    line += buf.toString('utf8', 0, n);
    const nl = line.indexOf('\n');
    if (nl >= 0) {
      close(CONFIG_FD);
      return line.slice(0, nl);
    }
  }
}

function main(): void {
  try {
    setCloexec(STATUS_FD, true, 'status channel');
    const cfgPath = process.argv[2] === CONFIG_FROM_FD ? awaitConfigPath() : process.argv[2];
    if (!cfgPath) throw new StepError('init', 'usage: init <config.json>');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as InitConfig;
    run(cfg);
  } catch (e) {
    reportFailure(e);
    process.exit(127);
  }
}

main();
