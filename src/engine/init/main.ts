/**
 * The init stage: PID 1 of a new PID namespace, started by the engine with the bundle's
 * config path as argv[2] and the status channel on fd 3. It creates the remaining namespaces,
 * builds the container's root (overlay, /proc, /dev, /sys, /etc files, volumes), pivot_roots
 * into it, sets hostname, sysctls, rlimits, joins the cgroup, drops to the configured user and
 * capabilities and execve()s the command. Every step is a plain syscall on the main thread
 * (sync fs only: libuv's pool threads stay in the host's mount namespace).
 */
import { openSync, readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
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
  O_CLOEXEC,
  O_RDONLY,
  chdir,
  close,
  execve,
  mount,
  open,
  pivotRoot,
  resetSignalDispositions,
  cloexecFrom,
  setCloexec,
  setdomainname,
  sethostname,
  setns,
  umount2,
  unshare,
} from '../../sys/syscalls.js';
import type { InitConfig } from '../protocol.js';
import { CONFIG_FD, CONFIG_FROM_FD, STATUS_FD } from '../protocol.js';
import { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, maskPaths, mountVolumes } from './mounts.js';
import { makeTarget } from './paths.js';
import { applyCredentials, applyRlimits, ensureCwd, enterCwd, finalEnv, hideFromContainer, lookPath, prepareStdio, readCredentials } from './process.js';
import { runReaper } from './reaper.js';
import { reportFailure, send, step } from './report.js';
import { bindEtcFiles, createDevices, mountCgroupViews, mountOverlay, mountSys, setupDev } from './rootfs.js';
import { StepError } from './step.js';
import { checkSysctl } from './sysctl.js';

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
    if (!spec.privileged) createDevices(rootfs, cfg.devices); // privileged: the host's /dev is there already
  });
  step('/sys', () => mountSys(rootfs, spec.privileged));
  step('/sys/fs/cgroup', () => mountCgroupViews(rootfs, cfg.cgroupViews ?? [], spec.privileged));
  step('/etc files', () => bindEtcFiles(rootfs, spec.bundleDir));
  step('volumes', () => mountVolumes(rootfs, spec.mounts));
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
    hideFromContainer();
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
