/**
 * Container lifecycle on the host: start (bundle, cgroup, init stage as PID 1 of a new PID
 * namespace), signal, stop, remove, OOM status.
 *
 * The PID namespace is created with unshare(CLONE_NEWPID) on Node's main thread right before
 * spawn (spawn forks from the main thread, so the child becomes PID 1 of the new namespace),
 * then the main thread's pid_for_children is restored with setns on a descriptor of our own
 * namespace. All of this is synchronous, so concurrent starts never interleave.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TscError } from '../common/errors.js';
import { initStageEntry } from './stage-entry.js';
import { CLONE_NEWPID, O_CLOEXEC, O_RDONLY, open, setns, unshare } from '../sys/syscalls.js';
import { prepareBundle, removeBundleParts, resolveDevices, validateSpec } from './bundle.js';
import { ContainerCgroup, killCgroups, type CgroupLayout, type CgroupStats } from './cgroups/index.js';
import { processAlive, processStartTime } from './procfs.js';
import { CONFIG_FROM_FD, type StatusMessage } from './protocol.js';
import type { ContainerSpec } from './spec.js';
import { faultPoint } from '../sys/fault.js';

export interface ContainerIO {
  stdin?: number | 'ignore';
  stdout: number;
  stderr: number;
}

export interface StartedContainer {
  /** host pid of the container's PID 1 (the command, after exec) */
  pid: number;
  /** /proc/PID/stat field 22: with pid, identifies the process across pid reuse */
  startTime: number;
  /** the spawned process; the caller is its parent and receives its exit */
  child: ChildProcess;
}

/**
 * An init stage started before its container is prepared (prepareInitStage), so its Node
 * start overlaps the caller's own work; startContainer hands it the config.
 */
export interface PreparedInitStage {
  child: ChildProcess;
  io: ContainerIO;
}

export interface EngineOptions {
  /** cgroup layout override (tests); detected from /proc/self/mountinfo by default */
  cgroupLayout?: CgroupLayout;
  /** how long the init stage may take before the start is abandoned (ms) */
  setupTimeoutMs?: number;
  /** an init stage from prepareInitStage with the same io, used instead of spawning one */
  prepared?: PreparedInitStage;
}

let ownPidNs: number | undefined;
function ownPidNsFd(): number {
  if (ownPidNs === undefined) ownPidNs = open('/proc/self/ns/pid', O_RDONLY | O_CLOEXEC, 0, 'open own pid namespace');
  return ownPidNs;
}

/**
 * Spawns `args` with the main thread's pid_for_children switched: into a new PID namespace
 * (`target` undefined) or into the namespace of the fd `target`. Restores it in every case.
 */
export function spawnInPidNs(target: number | undefined, file: string, args: string[], stdio: Array<number | 'ignore' | 'pipe'>): ChildProcess {
  const back = ownPidNsFd();
  if (target === undefined) unshare(CLONE_NEWPID, 'create the container pid namespace');
  else setns(target, CLONE_NEWPID, 'join the container pid namespace');
  try {
    return spawn(file, args, {
      stdio,
      detached: true,
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
    });
  } finally {
    setns(back, CLONE_NEWPID, 'restore the pid namespace for children');
  }
}

/** Reads status messages until EOF (the channel closes on exec or exit). */
export function readStatus(child: ChildProcess, timeoutMs: number): Promise<{ messages: StatusMessage[]; timedOut: boolean; spawnError?: Error }> {
  return new Promise((resolve) => {
    const chan = child.stdio[3] as NodeJS.ReadableStream | null;
    let buf = '';
    const messages: StatusMessage[] = [];
    let done = false;
    const finish = (timedOut: boolean, spawnError?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      for (const line of buf.split('\n')) {
        if (!line.trim()) continue;
        try {
          messages.push(JSON.parse(line) as StatusMessage);
        } catch {
          messages.push({ type: 'error', step: 'protocol', message: `unreadable status line: ${line.slice(0, 200)}` });
        }
      }
      (chan as unknown as { destroy?: () => void })?.destroy?.();
      resolve({ messages, timedOut, spawnError });
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    child.once('error', (e) => finish(false, e));
    if (!chan) return finish(false, new Error('no status channel'));
    chan.setEncoding('utf8');
    chan.on('data', (d: string) => (buf += d));
    chan.on('end', () => finish(false));
    chan.on('close', () => finish(false));
    chan.on('error', () => finish(false));
  });
}

function waitExit(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

export function containerCgroup(specOrPath: ContainerSpec | string, opts: EngineOptions = {}): ContainerCgroup {
  return new ContainerCgroup(typeof specOrPath === 'string' ? specOrPath : specOrPath.cgroupPath, opts.cgroupLayout);
}

function initStageFile(): string {
  const entry = initStageEntry('main');
  if (!existsSync(entry)) {
    throw new TscError('ENGINE_SETUP', `the init stage ${entry} is missing`, { hint: 'build the project first (npx tsc -p .)' });
  }
  return entry;
}

/**
 * Starts a container's init stage ahead of time: PID 1 of a new PID namespace, with `io` as
 * its stdio, waiting for its config (see CONFIG_FROM_FD). A Node start is most of a container
 * start, so a caller that knows it will start a container (`run`) lets it boot meanwhile.
 * If the caller never hands it a config, discardInitStage() (or the caller's exit, which
 * closes the config pipe) ends it.
 */
export function prepareInitStage(io: ContainerIO): PreparedInitStage {
  const child = spawnInPidNs(undefined, process.execPath, [initStageFile(), CONFIG_FROM_FD], [io.stdin ?? 'ignore', io.stdout, io.stderr, 'pipe', 'pipe']);
  child.on('error', () => undefined); // reported by readStatus when used
  return { child, io };
}

/** Ends an init stage that was prepared but not used. */
export async function discardInitStage(p: PreparedInitStage): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGKILL');
  await waitExit(p.child);
}

/**
 * Starts a container. Resolves once the command is about to run (the init stage's status
 * channel closed on exec); rejects with ENGINE_SETUP naming the failed step otherwise, after
 * cleaning up the cgroup and the init process.
 */
export async function startContainer(spec: ContainerSpec, io: ContainerIO, opts: EngineOptions = {}): Promise<StartedContainer> {
  validateSpec(spec);
  const cg = containerCgroup(spec, opts);
  if (cg.exists() && !cg.isEmpty()) {
    throw new TscError('ENGINE_SETUP', `container ${spec.id}: its cgroup ${spec.cgroupPath} still has processes ${cg.pids().join(', ')}`, {
      hint: 'the container is already running: stop it first',
    });
  }
  let child: ChildProcess | undefined;
  try {
    const devices = resolveDevices(spec);
    cg.create(spec.resources, {
      devices: spec.privileged ? 'all' : 'default',
      extraDeviceRules: devices.map((d) => `${d.type} ${d.major}:${d.minor} ${d.permissions}`),
    });
    const cfgPath = prepareBundle(
      spec,
      cg.dirs().map((d) => path.join(d, 'cgroup.procs')),
      cg.views(),
      devices,
    );
    if (opts.prepared) {
      child = opts.prepared.child;
      const chan = child.stdio[4] as NodeJS.WritableStream | null;
      if (!chan) throw new TscError('INTERNAL', 'the prepared init stage has no config channel');
      chan.on('error', () => undefined); // an init stage that died is reported by readStatus
      chan.end(cfgPath + '\n');
    } else {
      child = spawnInPidNs(undefined, process.execPath, [initStageFile(), cfgPath], [io.stdin ?? 'ignore', io.stdout, io.stderr, 'pipe']);
    }
    const { messages, timedOut, spawnError } = await readStatus(child, opts.setupTimeoutMs ?? 60_000);
    const err = messages.find((m): m is Extract<StatusMessage, { type: 'error' }> => m.type === 'error');
    const execd = messages.some((m) => m.type === 'exec');
    if (spawnError) {
      throw new TscError('ENGINE_SETUP', `container ${spec.id}: cannot start the init stage: ${spawnError.message}`, { cause: spawnError });
    }
    if (err) {
      throw new TscError('ENGINE_SETUP', `container ${spec.id}: setup failed at step "${err.step}": ${err.message}`, {
        hint: err.hint ?? (err.step === 'exec' ? 'check the command and the image (entrypoint/command, PATH)' : undefined),
      });
    }
    if (timedOut) {
      throw new TscError('ENGINE_SETUP', `container ${spec.id}: the init stage did not finish setup within ${opts.setupTimeoutMs ?? 60_000} ms`);
    }
    if (!execd) {
      const { code, signal } = await waitExit(child);
      throw new TscError('ENGINE_SETUP', `container ${spec.id}: the init stage exited (${signal ?? `code ${code}`}) without reporting`);
    }
    const pid = child.pid!;
    faultPoint(`start container ${spec.id}`);
    const startTime = processStartTime(pid);
    if (startTime === undefined) {
      // The command already ran and exited (and was reaped): its start time is gone with it.
      return { pid, startTime: 0, child };
    }
    return { pid, startTime, child };
  } catch (e) {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await waitExit(child);
    }
    try {
      if (cg.exists()) {
        await cg.killAll(5000);
        cg.destroy();
      }
    } catch {
      // the start error is what matters; a leftover cgroup is removed by removeContainer
    }
    if (e instanceof TscError && e.code === 'ENGINE_CGROUP') {
      throw new TscError('ENGINE_CGROUP', `container ${spec.id}: ${e.message}`, { cause: e.cause, hint: e.hint });
    }
    if (e instanceof TscError) throw e;
    throw new TscError('ENGINE_SETUP', `container ${spec.id}: ${(e as Error).message}`, { cause: e });
  }
}

/** Signals every process of the container (found through its cgroup). Returns how many. */
export function killContainer(specOrPath: ContainerSpec | string, signal: NodeJS.Signals | number, opts: EngineOptions = {}): number {
  const cg = containerCgroup(specOrPath, opts);
  if (!cg.exists()) return 0;
  return cg.signalAll(signal);
}

/**
 * Sends `signal` to the container's PID 1, waits up to `graceMs` for it to exit, then
 * SIGKILLs everything left in the cgroup. On return the cgroup is empty.
 */
export async function stopContainer(
  spec: ContainerSpec,
  pid: number,
  signal: NodeJS.Signals | number,
  graceMs: number,
  opts: EngineOptions = {},
): Promise<void> {
  const cg = containerCgroup(spec, opts);
  if (pid > 0 && processAlive(pid)) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone already
    }
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && processAlive(pid)) await sleep(20);
  }
  if (cg.exists()) await cg.killAll();
}

/**
 * stopContainer for many containers at once, each with its own signal and grace period: the
 * grace periods run together, and the containers whose grace ran out (or whose PID 1 exited)
 * at the same moment are killed in one batch (killCgroups), so their cgroup freezes overlap
 * instead of each paying the kernel's static-key flips. On return every cgroup is empty.
 */
export async function stopContainers(
  items: Array<{ spec: ContainerSpec; pid: number; signal: NodeJS.Signals | number; graceMs: number }>,
  opts: EngineOptions = {},
): Promise<void> {
  const start = Date.now();
  const pending = items.map((it) => {
    let alive = it.pid > 0 && processAlive(it.pid);
    if (alive) {
      try {
        process.kill(it.pid, it.signal);
      } catch {
        alive = false; // gone already
      }
    }
    return { ...it, alive, deadline: start + it.graceMs };
  });
  let left = pending;
  for (;;) {
    const now = Date.now();
    const due = left.filter((it) => !it.alive || now >= it.deadline || !processAlive(it.pid));
    if (due.length) await killCgroups(due.map((it) => containerCgroup(it.spec, opts)));
    left = left.filter((it) => !due.includes(it));
    if (!left.length) return;
    await sleep(20);
  }
}

/** Removes the container's cgroup (killing what is left) and its bundle's engine files. Never touches volumes. */
export async function removeContainer(spec: ContainerSpec, opts: EngineOptions = {}): Promise<void> {
  const cg = containerCgroup(spec, opts);
  if (cg.exists()) {
    await cg.killAll();
    cg.destroy();
  }
  await removeBundleParts(spec);
}

/** Freezes every process of the container (Compose pause). */
export async function pauseContainer(specOrPath: ContainerSpec | string, opts: EngineOptions = {}): Promise<void> {
  const cg = containerCgroup(specOrPath, opts);
  if (!cg.exists() || cg.isEmpty()) {
    throw new TscError('ENGINE_NOT_RUNNING', `container ${typeof specOrPath === 'string' ? specOrPath : specOrPath.id} is not running: nothing to pause`);
  }
  await cg.setFrozen(true);
}

/** Thaws a paused container. */
export async function unpauseContainer(specOrPath: ContainerSpec | string, opts: EngineOptions = {}): Promise<void> {
  const cg = containerCgroup(specOrPath, opts);
  if (cg.exists()) await cg.setFrozen(false);
}

export function isPaused(specOrPath: ContainerSpec | string, opts: EngineOptions = {}): boolean {
  const cg = containerCgroup(specOrPath, opts);
  return cg.exists() && cg.isFrozen();
}

/** Current usage of the container (memory, cpu time, task count) from its cgroup. */
export function containerStats(specOrPath: ContainerSpec | string, opts: EngineOptions = {}): CgroupStats {
  const cg = containerCgroup(specOrPath, opts);
  return cg.exists() ? cg.stats() : {};
}

/**
 * Kills every process in every cgroup below `relPath` (e.g. "tscompose/<project>") and removes
 * those cgroups, deepest first: cleans up after a crash left containers nobody records.
 * Returns the container cgroups removed (paths relative to the hierarchy roots).
 */
export async function removeCgroupTree(relPath: string, opts: EngineOptions = {}): Promise<string[]> {
  const top = containerCgroup(relPath, opts);
  const found = new Set<string>();
  const walk = (root: string, rel: string) => {
    const dir = path.join(root, rel);
    let entries: string[];
    try {
      entries = readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name);
    } catch {
      return;
    }
    for (const e of entries) walk(root, `${rel}/${e}`);
    found.add(rel);
  };
  for (const d of top.dirs()) walk(d.slice(0, d.length - top.relPath.length - 1), top.relPath);
  // deepest first, so a parent is empty of children when its turn comes
  const order = [...found].sort((a, b) => b.split('/').length - a.split('/').length);
  const removed: string[] = [];
  for (const rel of order) {
    const cg = containerCgroup(rel, opts);
    if (!cg.isEmpty()) await cg.killAll();
    for (const d of cg.dirs()) {
      try {
        rmdirSync(d);
      } catch {
        // absent in this hierarchy
      }
    }
    removed.push(rel);
  }
  // and the empty ancestors inside relPath's own prefix ("tscompose")
  top.destroy();
  return removed;
}

export function isOomKilled(specOrPath: ContainerSpec | string, opts: EngineOptions = {}): boolean {
  const cg = containerCgroup(specOrPath, opts);
  return cg.exists() && cg.oomKilled();
}

export { processAlive, processStartTime };
