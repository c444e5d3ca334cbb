/**
 * The exec stage: runs a command inside a running container. Spawned by the engine with its
 * pid_for_children already in the container's PID namespace; it joins the container's cgroup
 * and its cgroup, ipc, uts, net and mount namespaces (mount last, after unshare(CLONE_FS)),
 * sets credentials and capabilities, and execve()s. Reports like the init stage on fd 3.
 */
import { openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import {
  CLONE_FS,
  CLONE_NEWCGROUP,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWUTS,
  O_CLOEXEC,
  O_RDONLY,
  close,
  execve,
  open,
  resetSignalDispositions,
  cloexecFrom,
  setCloexec,
  setns,
  unshare,
} from '../../sys/syscalls.js';
import { STATUS_FD, type ExecConfig } from '../protocol.js';
import { applyCredentials, applyRlimits, enterCwd, finalEnv, hideFromContainer, lookPath, prepareStdio, readCredentials } from './process.js';
import { reportFailure, send, step } from './report.js';
import { StepError } from './step.js';

const NAMESPACES: Array<[string, number]> = [
  ['cgroup', CLONE_NEWCGROUP],
  ['ipc', CLONE_NEWIPC],
  ['uts', CLONE_NEWUTS],
  ['net', CLONE_NEWNET],
  ['mnt', CLONE_NEWNS],
];

function run(cfg: ExecConfig): never {
  const proc = cfg.process;
  const nsFds = step('namespaces', () =>
    NAMESPACES.map(
      ([name, flag]) =>
        [open(`/proc/${cfg.targetPid}/ns/${name}`, O_RDONLY | O_CLOEXEC, 0, `open ${name} namespace of pid ${cfg.targetPid}`), flag, name] as const,
    ),
  );
  // Opened now (host paths), written last: the stage's own memory is not charged to the container.
  const cgroupFds = step('cgroup', () => cfg.cgroupProcs.map((f) => openSync(f, 'w')));
  for (const fd of cgroupFds) setCloexec(fd, true);
  step('namespaces', () => {
    unshare(CLONE_FS, 'unshare fs attributes');
    for (const [fd, flag, name] of nsFds) {
      setns(fd, flag, `join the ${name} namespace`);
      close(fd);
    }
  });
  step('rlimits', () => applyRlimits(proc.rlimits ?? []));
  const cred = step('user', () =>
    readCredentials({ ...proc, cwd: proc.cwd || '/', noNewPrivileges: !!proc.noNewPrivileges, capabilities: [], rlimits: [], init: false }),
  );
  const env = finalEnv(proc.env, cred);
  const file = step('exec', () => lookPath(proc.args[0], env, proc.cwd));
  step('cgroup', () => {
    for (const fd of cgroupFds) writeSync(fd, '0');
    for (const fd of cgroupFds) close(fd);
  });
  step('credentials', () => applyCredentials(cred, proc.capabilities ?? [], !!proc.privileged, !!proc.noNewPrivileges, proc.seccomp));
  enterCwd(proc.cwd || '/');
  step('stdio', () => {
    prepareStdio(proc.tty);
    cloexecFrom(STATUS_FD);
  });
  resetSignalDispositions();
  send({ type: 'exec', pid: process.pid });
  return execve(file, proc.args, env, `exec ${file}`);
}

function main(): void {
  try {
    hideFromContainer();
    setCloexec(STATUS_FD, true, 'status channel');
    const cfgPath = process.argv[2];
    if (!cfgPath) throw new StepError('exec', 'usage: exec <config.json>');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as ExecConfig;
    unlinkSync(cfgPath);
    run(cfg);
  } catch (e) {
    reportFailure(e);
    process.exit(126);
  }
}

main();
