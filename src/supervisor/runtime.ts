/**
 * What the supervisor needs from the container engine, as one narrow interface. The production
 * implementation (engine-runtime.ts) maps it onto src/engine; the supervisor's own logic (logs,
 * restarts, health, re-adoption) only ever sees this.
 */
import { constants as osConstants } from 'node:os';
import type { ContainerSpec } from '../engine/spec.js';
import { TscError } from '../common/errors.js';

export interface ExitStatus {
  /** exit code, 128 + n when killed by signal n */
  exitCode: number;
}

export interface StartedContainer {
  pid: number;
  /** clock ticks after boot, as /proc/PID/stat field 22 */
  startTime: number;
  /** settles once the container's first process has exited and been reaped */
  exited: Promise<ExitStatus>;
}

export interface ContainerIo {
  /** descriptors the container's process gets as fd 1 and 2 (and 0 when given) */
  stdin?: number;
  stdout: number;
  stderr: number;
}

export interface ExecRequest {
  args: string[];
  env: string[];
  cwd: string;
  user?: string;
}

export interface ExecHandle {
  exited: Promise<ExitStatus>;
  /** SIGKILL (a probe past its timeout) */
  kill(): void;
}

export interface ContainerRuntime {
  start(spec: ContainerSpec, io: ContainerIo): Promise<StartedContainer>;
  /** signal, then SIGKILL to every process of the container after graceMs */
  stop(spec: ContainerSpec, pid: number, signal: number, graceMs: number): Promise<void>;
  /**
   * stop() for many containers at once (each with its own signal and grace period), killing
   * what is left in batches; optional: without it, the containers are stopped one by one.
   */
  stopMany?(items: Array<{ spec: ContainerSpec; pid: number; signal: number; graceMs: number }>): Promise<void>;
  /** a signal to the container's first process */
  kill(spec: ContainerSpec, pid: number, signal: number): Promise<void>;
  remove(spec: ContainerSpec): Promise<void>;
  /** freezes / thaws every process of the container */
  pause(spec: ContainerSpec): Promise<void>;
  unpause(spec: ContainerSpec): Promise<void>;
  isOomKilled(spec: ContainerSpec): Promise<boolean>;
  /**
   * Starts a process inside every namespace and the cgroup of the running container (its first
   * process is `pid`), with the given descriptors as its stdout/stderr. Resolves once it runs.
   */
  exec(spec: ContainerSpec, pid: number, req: ExecRequest, io: { stdout: number; stderr: number }): Promise<ExecHandle>;
}

/** "SIGTERM", "TERM", "15" → 15. */
export function signalNumber(sig: string | number): number {
  if (typeof sig === 'number') return sig;
  const s = sig.trim().toUpperCase();
  if (/^\d+$/.test(s)) return Number(s);
  const name = (s.startsWith('SIG') ? s : `SIG${s}`) as keyof typeof osConstants.signals;
  const n = osConstants.signals[name];
  if (typeof n !== 'number') {
    throw new TscError('USAGE', `unknown signal "${sig}"`, { hint: 'use a name such as SIGTERM, SIGINT, SIGKILL or a number' });
  }
  return n;
}
