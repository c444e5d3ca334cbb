/**
 * Running an extra command inside a running container (compose exec, healthchecks).
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { TscError } from '../common/errors.js';
import { initStageEntry } from './stage-entry.js';
import { O_CLOEXEC, O_RDONLY, close, open } from '../sys/syscalls.js';
import { containerCgroup, readStatus, spawnInPidNs, type ContainerIO, type EngineOptions } from './container.js';
import { DEFAULT_CAPABILITIES } from './spec.js';
import { processAlive } from './procfs.js';
import type { ExecConfig, ExecProcessSpec, StatusMessage } from './protocol.js';

export type { ExecProcessSpec } from './protocol.js';

/** The container's own seccomp mode, so an exec gets the same confinement by default. */
function seccompModeOf(pid: number): 'default' | 'unconfined' {
  try {
    const m = /^Seccomp:\s+(\d)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m && m[1] !== '0' ? 'default' : 'unconfined';
  } catch {
    return 'default';
  }
}

export interface ExecTarget {
  /** host pid of the container's PID 1 */
  pid: number;
  cgroupPath: string;
  /** container id, for messages */
  id?: string;
}

/**
 * Starts `proc` inside the container: every namespace of `target.pid` and its cgroup. Resolves
 * with the child process once the command runs (its exit code is the command's); rejects with
 * ENGINE_NOT_RUNNING or ENGINE_EXEC. Capabilities default to Docker's set; the environment is
 * used as given (merge the container's own environment first).
 */
export async function execInContainer(target: ExecTarget, proc: ExecProcessSpec, io: ContainerIO, opts: EngineOptions = {}): Promise<ChildProcess> {
  const name = target.id ?? target.cgroupPath;
  if (!processAlive(target.pid)) {
    throw new TscError('ENGINE_NOT_RUNNING', `container ${name} is not running (pid ${target.pid} is gone)`);
  }
  if (!proc.args.length) throw new TscError('ENGINE_EXEC', `exec in container ${name}: no command given`);
  const cg = containerCgroup(target.cgroupPath, opts);
  const cfg: ExecConfig = {
    targetPid: target.pid,
    cgroupProcs: cg.dirs().map((d) => path.join(d, 'cgroup.procs')),
    process: {
      ...proc,
      capabilities: proc.capabilities ?? [...DEFAULT_CAPABILITIES],
      seccomp: proc.seccomp ?? (proc.privileged ? 'unconfined' : seccompModeOf(target.pid)),
    },
  };
  const entry = initStageEntry('exec');
  if (!existsSync(entry)) throw new TscError('ENGINE_EXEC', `the exec stage ${entry} is missing`, { hint: 'build the project first (npx tsc -p .)' });
  let pidns: number;
  try {
    pidns = open(`/proc/${target.pid}/ns/pid`, O_RDONLY | O_CLOEXEC, 0, `open the pid namespace of container ${name}`);
  } catch (e) {
    throw new TscError('ENGINE_NOT_RUNNING', `container ${name} is not running: ${(e as Error).message}`, { cause: e });
  }
  // The config (with the environment) goes through a root-only file that the stage deletes
  // once read; removed here too whatever happens.
  const cfgPath = path.join(os.tmpdir(), `tsc-exec-${randomBytes(8).toString('hex')}.json`);
  let child: ChildProcess;
  let status: Awaited<ReturnType<typeof readStatus>>;
  try {
    try {
      writeFileSync(cfgPath, JSON.stringify(cfg), { mode: 0o600 });
      child = spawnInPidNs(pidns, process.execPath, [entry, cfgPath], [io.stdin ?? 'ignore', io.stdout, io.stderr, 'pipe']);
    } finally {
      close(pidns);
    }
    status = await readStatus(child, opts.setupTimeoutMs ?? 30_000);
  } catch (e) {
    if (e instanceof TscError) throw new TscError('ENGINE_EXEC', `exec in container ${name}: ${e.message}`, { cause: e });
    throw e;
  } finally {
    rmSync(cfgPath, { force: true });
  }
  const { messages, timedOut, spawnError } = status;
  const err = messages.find((m): m is Extract<StatusMessage, { type: 'error' }> => m.type === 'error');
  if (spawnError || err || timedOut || !messages.some((m) => m.type === 'exec')) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    const what = spawnError?.message ?? (err ? `step "${err.step}": ${err.message}` : timedOut ? 'setup timed out' : 'the exec stage exited without reporting');
    throw new TscError('ENGINE_EXEC', `exec in container ${name} failed at ${what}`, {
      hint: err?.hint ?? (err?.step === 'exec' ? 'check the command name and PATH inside the container' : undefined),
    });
  }
  return child;
}
