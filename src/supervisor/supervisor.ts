/**
 * The supervisor's core: the containers of one project, their stdio, logs, exit codes, restart
 * policies and healthchecks, and re-adoption of containers left running by a previous
 * supervisor. Transport-free: server.ts feeds it requests from the socket.
 */
import { constants as fsConstants, mkdirSync, openSync, closeSync, readSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { TscError, isTscError } from '../common/errors.js';
import { bundleFiles, projectPaths, type BundleFiles, type ProjectPaths } from './paths.js';
import { HealthMonitor, initialHealth, probeArgs } from './health.js';
import { judgeWait } from './wait.js';
import type { HookContext, SupervisorHook } from './hooks.js';
import { LineSplitter, LogWriter, readLogs, sinceToNs } from './logs.js';
import { isSameProcess } from './proc.js';
import { toWireError, type RemoveOutcome, type WaitCondition } from './protocol.js';
import { signalNumber, type ContainerRuntime, type ExitStatus } from './runtime.js';
import { growPipe, mkfifo } from '../sys/fifo.js';
import { ProcExitEvents, closeFd, pidfdExited, pidfdOpen } from '../sys/process-watch.js';
import {
  LOG_DEFAULTS,
  type ContainerStatus,
  type LogEntry,
  type LogOptions,
  type RunConfig,
  type SupervisorEvent,
} from './types.js';
import { nowRfc3339Nano } from './logs.js';

const BACKOFF_START_MS = 100;
const BACKOFF_MAX_MS = 60_000;
/** uptime after which a restarted container's backoff starts again from BACKOFF_START_MS */
const BACKOFF_RESET_UPTIME_MS = 10_000;
/** how long output still in the FIFOs is read after the container's process exited */
const DRAIN_MS = 300;
/** how often a re-adopted container (not our child) is checked for exit */
const ADOPTED_POLL_MS = 200;
/** FIFO buffer asked for each output stream (the kernel caps it at fs.pipe-max-size) */
const PIPE_BYTES = 1024 * 1024;

export interface SupervisorOptions {
  root: string;
  project: string;
  runtime: ContainerRuntime;
  hooks?: SupervisorHook[];
  /** diagnostics for the supervisor's own log (never shown to users directly) */
  log?: (line: string) => void;
}

interface RunHandle {
  token: number;
  readers: net.Socket[];
  /** settles once the exit of this run has been fully handled */
  done: Promise<void>;
  resolveDone: () => void;
  health: HealthMonitor | null;
  stopWatch: () => void;
}

interface Managed {
  config: RunConfig;
  files: BundleFiles;
  logOpts: LogOptions;
  status: ContainerStatus;
  writer: LogWriter | null;
  run: RunHandle | null;
  restartTimer: NodeJS.Timeout | null;
  backoffMs: number;
  followers: Set<(e: LogEntry | null) => void>;
  removed: boolean;
  /** a run request is starting it right now */
  starting: boolean;
  /** settles when that start has finished (either way) */
  startDone: Promise<unknown> | null;
}

export interface LogsQuery {
  tail?: number;
  since?: string | number;
  follow?: boolean;
  untilExit?: boolean;
}

export class Supervisor {
  readonly paths: ProjectPaths;
  private readonly containers = new Map<string, Managed>();
  private readonly listeners = new Set<() => void>();
  private readonly eventListeners = new Set<(e: SupervisorEvent) => void>();
  private readonly runtime: ContainerRuntime;
  private readonly hooks: SupervisorHook[];
  private readonly log: (line: string) => void;
  private nextToken = 1;
  private closed = false;
  /** exit events of processes this supervisor did not fork (open while it watches adopted containers) */
  private procEvents: ProcExitEvents | null = null;
  /** host pids of adopted containers → exit code, once their exit event arrived */
  private readonly adoptedExits = new Map<number, number | undefined>();

  constructor(private readonly opts: SupervisorOptions) {
    this.paths = projectPaths(opts.root, opts.project);
    this.runtime = opts.runtime;
    this.hooks = opts.hooks ?? [];
    this.log = opts.log ?? (() => {});
    mkdirSync(this.paths.dir, { recursive: true });
  }

  // ---- start-up: re-adoption -------------------------------------------------------------

  /**
   * Loads the containers recorded by an earlier supervisor of this project. Running ones whose
   * pid and start time still match are adopted (logs re-opened, exit watched); those that died
   * meanwhile are marked exited with an unknown exit code and get their restart policy.
   */
  async adopt(): Promise<string[]> {
    const adopted: string[] = [];
    // listening before any identity check, so an exit after the check is not missed
    this.procEvents = ProcExitEvents.open();
    for (const [id, bundleDir] of Object.entries(this.readIndex())) {
      const files = bundleFiles(bundleDir);
      let config: RunConfig;
      let status: ContainerStatus;
      try {
        config = JSON.parse(readFileSync(files.run, 'utf8')) as RunConfig;
        status = JSON.parse(readFileSync(files.status, 'utf8')) as ContainerStatus;
      } catch (err) {
        this.log(`container ${id}: cannot read its records in ${bundleDir} (${(err as Error).message}); forgetting it`);
        continue;
      }
      const m = this.newManaged(config, status);
      this.containers.set(id, m);
      const live = status.state === 'running' || status.state === 'paused';
      if (live && status.pid && status.startTime !== null && isSameProcess(status.pid, status.startTime)) {
        this.adoptRunning(m);
        adopted.push(id);
        await this.callHooks('onContainerStart', m);
      } else if (live) {
        m.status = {
          ...status,
          state: 'exited',
          pid: null,
          startTime: null,
          exitCode: null,
          finishedAt: new Date().toISOString(),
          exitReason: 'the container exited while no supervisor was watching it: its exit code is unknown',
        };
        this.save(m);
        this.afterExit(m, null, 0);
      } else if (status.state === 'created') {
        // its start was under way when the previous supervisor went away: whatever it left in
        // the container's cgroup has no owner now, so it goes
        try {
          await this.runtime.stop(config.spec, 0, 9, 0);
        } catch (err) {
          this.log(`container ${id}: cleaning up an interrupted start failed: ${(err as Error).message}`);
        }
        m.status = {
          ...status,
          state: 'exited',
          exitCode: null,
          finishedAt: new Date().toISOString(),
          exitReason: 'its start was interrupted when the previous supervisor went away',
        };
        this.save(m);
      } else if (status.state === 'restarting') {
        // its restart was pending (or under way) when the previous supervisor went away: sweep
        // what a half-done start may have left, then decide again
        try {
          await this.runtime.stop(config.spec, 0, 9, 0);
        } catch (err) {
          this.log(`container ${id}: cleaning up an interrupted restart failed: ${(err as Error).message}`);
        }
        m.status = { ...status, state: 'exited' };
        this.save(m);
        this.afterExit(m, status.exitCode === null ? null : status.exitCode !== 0, 0);
      }
    }
    this.writeIndex();
    if (this.adoptedExits.size === 0) this.stopExitEvents();
    return adopted;
  }

  /** Moves queued exit events of adopted containers' pids into adoptedExits; drops the rest. */
  private collectExits(): void {
    if (!this.procEvents) return;
    for (const [pid, code] of this.procEvents.drain()) if (this.adoptedExits.has(pid)) this.adoptedExits.set(pid, code);
  }

  private stopExitEvents(): void {
    this.procEvents?.close();
    this.procEvents = null;
  }

  private adoptRunning(m: Managed): void {
    const pid = m.status.pid!;
    const token = this.nextToken++;
    const run = this.newRun(token);
    m.run = run;
    try {
      m.writer = new LogWriter(m.files.log, m.logOpts);
      // The container holds both FIFOs open read-write, so opening the read side never blocks.
      run.readers = [this.openReader(m, 'stdout'), this.openReader(m, 'stderr')];
    } catch (err) {
      // still watch its exit: losing its logs is better than losing the container
      this.log(`container ${m.config.spec.id}: cannot re-open its output: ${(err as Error).message}`);
    }
    const pidfd = pidfdOpen(pid);
    // events queued so far are of other processes (this one was alive when adopt() checked it)
    this.collectExits();
    if (this.procEvents) this.adoptedExits.set(pid, undefined);
    let timer: NodeJS.Timeout | null = null;
    const check = (): void => {
      this.collectExits(); // also keeps the event socket from filling up
      const gone = pidfd === null ? !isSameProcess(pid, m.status.startTime!) : pidfdExited(pidfd);
      if (!gone) return;
      // the kernel queues the exit event before the process becomes a zombie
      this.collectExits();
      const code = this.adoptedExits.get(pid);
      run.stopWatch();
      void this.handleExit(m, token, code === undefined ? null : { exitCode: code });
    };
    timer = setInterval(check, ADOPTED_POLL_MS);
    run.stopWatch = () => {
      if (timer) clearInterval(timer);
      timer = null;
      if (pidfd !== null) closeFd(pidfd);
      this.adoptedExits.delete(pid);
      if (this.adoptedExits.size === 0) this.stopExitEvents();
    };
    // the pidfd refers to this exact process: re-check identity now that it is held
    if (!isSameProcess(pid, m.status.startTime!)) check();
    if (m.status.state === 'running') {
      run.health = this.startHealth(m, pid, Date.parse(m.status.startedAt ?? new Date().toISOString()));
    }
    this.log(`container ${m.config.spec.id}: adopted ${m.status.state} pid ${pid}`);
  }

  // ---- requests ---------------------------------------------------------------------------

  async runContainer(config: RunConfig): Promise<ContainerStatus> {
    this.assertOpen();
    const id = config.spec.id;
    if (config.healthcheck) probeArgs(config.healthcheck.test); // validate before starting
    let m = this.containers.get(id);
    if (m && (m.status.state === 'running' || m.status.state === 'paused' || m.status.state === 'restarting' || m.starting)) {
      throw new TscError('SUPERVISOR', `container ${id} is already ${m.starting ? 'starting' : m.status.state}`, {
        hint: 'stop it first, or remove it to create it again',
      });
    }
    if (m && m.config.spec.bundleDir !== config.spec.bundleDir) m.writer?.close();
    const status: ContainerStatus = {
      id,
      state: 'created',
      pid: null,
      startTime: null,
      startedAt: null,
      finishedAt: null,
      exitCode: null,
      oomKilled: false,
      restartCount: 0,
      stoppedByUser: false,
      labels: config.labels,
    };
    const fresh = this.newManaged(config, status);
    if (m) {
      // keep followers of an earlier run of the same container
      fresh.followers = m.followers;
      if (m.config.spec.bundleDir === config.spec.bundleDir) fresh.writer = m.writer;
    }
    m = fresh;
    mkdirSync(config.spec.bundleDir, { recursive: true });
    this.containers.set(id, m);
    this.writeAtomic(m.files.run, JSON.stringify(config, null, 1));
    this.save(m);
    this.writeIndex();
    m.starting = true;
    const started = this.startRun(m);
    m.startDone = started.catch(() => {});
    try {
      await started;
    } catch (err) {
      m.status = { ...m.status, state: 'dead', error: wireOf(err), finishedAt: new Date().toISOString() };
      this.save(m);
      this.notify();
      throw err;
    } finally {
      m.starting = false;
    }
    return m.status;
  }

  /** Starts a stopped container again from its recorded run request (restart count reset). */
  async start(id: string): Promise<ContainerStatus> {
    const m = this.get(id);
    return this.runContainer(m.config);
  }

  async stop(id: string, signal?: string, timeoutMs?: number): Promise<ContainerStatus> {
    const m = this.get(id);
    if (m.starting && m.startDone) await m.startDone; // then stop what it started
    m.status.stoppedByUser = true;
    this.cancelRestart(m);
    if (m.status.state === 'restarting') {
      m.status = { ...m.status, state: 'exited' };
      this.save(m);
      return m.status;
    }
    if (m.status.state === 'paused') await this.thaw(m); // frozen processes cannot act on a signal
    if (m.status.state !== 'running' || !m.run || !m.status.pid) {
      this.save(m);
      return m.status;
    }
    const sig = signalNumber(signal ?? m.config.stopSignal ?? 'SIGTERM');
    const grace = timeoutMs ?? m.config.stopGraceMs ?? 10_000;
    const run = m.run;
    this.save(m);
    await this.runtime.stop(m.config.spec, m.status.pid, sig, grace);
    await withTimeout(run.done, 10_000 + DRAIN_MS, () =>
      new TscError('SUPERVISOR', `container ${id} was stopped but its exit was not seen within 10 s`),
    );
    return m.status;
  }

  async kill(id: string, signal?: string): Promise<ContainerStatus> {
    const m = this.get(id);
    if (m.status.state === 'paused') await this.thaw(m);
    if (m.status.state !== 'running' || !m.status.pid) {
      throw new TscError('ENGINE_NOT_RUNNING', `container ${id} is not running (state ${m.status.state})`);
    }
    const sig = signalNumber(signal ?? 'SIGKILL');
    m.status.stoppedByUser = true;
    this.save(m);
    await this.runtime.kill(m.config.spec, m.status.pid, sig);
    return m.status;
  }

  /** Freezes the container (compose pause); its healthcheck waits until it is thawed. */
  async pause(id: string): Promise<ContainerStatus> {
    const m = this.get(id);
    if (m.status.state !== 'running' || !m.run) {
      throw new TscError('ENGINE_NOT_RUNNING', `container ${id} is not running (state ${m.status.state}): nothing to pause`);
    }
    await this.runtime.pause(m.config.spec);
    m.run.health?.stop();
    m.run.health = null;
    m.status = { ...m.status, state: 'paused' };
    this.save(m);
    this.emit(m, 'pause');
    this.notify();
    return m.status;
  }

  async unpause(id: string): Promise<ContainerStatus> {
    const m = this.get(id);
    if (m.status.state !== 'paused') {
      throw new TscError('ENGINE_NOT_RUNNING', `container ${id} is not paused (state ${m.status.state})`);
    }
    await this.thaw(m);
    return m.status;
  }

  private async thaw(m: Managed): Promise<void> {
    await this.runtime.unpause(m.config.spec);
    m.status = { ...m.status, state: 'running' };
    if (m.run && m.status.pid) {
      m.run.health = this.startHealth(m, m.status.pid, Date.parse(m.status.startedAt ?? new Date().toISOString()));
    }
    this.save(m);
    this.emit(m, 'unpause');
    this.notify();
  }

  async remove(id: string, force = false): Promise<void> {
    const m = this.get(id);
    if (m.status.state === 'running' || m.status.state === 'paused' || m.status.state === 'restarting') {
      if (!force) {
        throw new TscError('SUPERVISOR', `container ${id} is ${m.status.state} and cannot be removed`, {
          hint: 'stop it first, or remove with force',
        });
      }
      await this.stop(id, 'SIGKILL', 0);
    }
    await this.forgetContainer(id, m);
    this.writeIndex();
    await this.afterRemove(m);
  }

  /**
   * Stops and removes many containers (down): stop() and remove() for each, but with one grace
   * period and batched kills for all (the runtime's stopMany) and one write of the index. Each
   * container's outcome is reported apart, in the order asked; an unknown container is
   * NO_SUCH_SERVICE, as for remove().
   */
  async removeMany(ids: string[], opts: { signal?: string; timeoutMs?: number } = {}): Promise<RemoveOutcome[]> {
    const errors = new Map<string, unknown>();
    const known: Array<[string, Managed]> = [];
    for (const id of ids) {
      const m = this.containers.get(id);
      if (m) known.push([id, m]);
      else errors.set(id, this.unknown(id));
    }
    const sig = opts.signal === undefined ? undefined : signalNumber(opts.signal);
    // what stop() does before signalling, for each
    await Promise.all(known.map(([, m]) => (m.starting && m.startDone ? m.startDone : undefined)));
    const toStop: Array<{ id: string; m: Managed; run: RunHandle; pid: number; signal: number; graceMs: number }> = [];
    for (const [id, m] of known) {
      try {
        m.status.stoppedByUser = true;
        this.cancelRestart(m);
        if (m.status.state === 'restarting') m.status = { ...m.status, state: 'exited' };
        if (m.status.state === 'paused') await this.thaw(m);
        this.save(m);
        if (m.status.state !== 'running' || !m.run || !m.status.pid) continue;
        const signal = sig ?? signalNumber(m.config.stopSignal ?? 'SIGTERM');
        toStop.push({ id, m, run: m.run, pid: m.status.pid, signal, graceMs: opts.timeoutMs ?? m.config.stopGraceMs ?? 10_000 });
      } catch (err) {
        errors.set(id, err);
      }
    }
    let batched = false;
    if (this.runtime.stopMany && toStop.length) {
      try {
        await this.runtime.stopMany(toStop.map(({ m, pid, signal, graceMs }) => ({ spec: m.config.spec, pid, signal, graceMs })));
        batched = true;
      } catch (err) {
        this.log(`stopping ${toStop.length} containers together failed (${(err as Error).message}); stopping them one by one`);
      }
    }
    await Promise.all(
      toStop.map(async ({ id, m, run, pid, signal, graceMs }) => {
        try {
          if (!batched) await this.runtime.stop(m.config.spec, pid, signal, graceMs);
          await withTimeout(run.done, 10_000 + DRAIN_MS, () =>
            new TscError('SUPERVISOR', `container ${id} was stopped but its exit was not seen within 10 s`),
          );
        } catch (err) {
          errors.set(id, err);
        }
      }),
    );
    const removed: Managed[] = [];
    await Promise.all(
      known.map(async ([id, m]) => {
        if (errors.has(id)) return;
        try {
          await this.forgetContainer(id, m);
          removed.push(m);
        } catch (err) {
          errors.set(id, err);
        }
      }),
    );
    if (removed.length) this.writeIndex();
    for (const m of removed) await this.afterRemove(m);
    return ids.map((id) => (errors.has(id) ? { id, error: toWireError(errors.get(id)) } : { id }));
  }

  /** The engine's and the bundle's part of removing a stopped container; the index is the caller's. */
  private async forgetContainer(id: string, m: Managed): Promise<void> {
    this.cancelRestart(m);
    // the engine first: when it fails, the container stays listed and removable again
    await this.runtime.remove(m.config.spec);
    m.removed = true;
    m.writer?.close();
    m.writer = null;
    const files = [m.files.stdinFifo, m.files.stdoutFifo, m.files.stderrFifo, m.files.status, m.files.run, m.files.log, path.join(m.config.spec.bundleDir, 'health-probe.out')];
    // rotated logs, whatever max-file was when they were written
    const logDir = path.dirname(m.files.log);
    const base = `${path.basename(m.files.log)}.`;
    for (const n of await readdir(logDir).catch(() => [] as string[])) {
      if (n.startsWith(base) && /^\d+$/.test(n.slice(base.length))) files.push(path.join(logDir, n));
    }
    await Promise.all(files.map((f) => rm(f, { force: true })));
    this.containers.delete(id);
  }

  /** Tells followers, event listeners and hooks that a container is gone (after the index is written). */
  private async afterRemove(m: Managed): Promise<void> {
    for (const f of m.followers) f(null);
    m.followers.clear();
    this.emit(m, 'remove');
    await this.callHooks('onContainerRemove', m);
    this.notify();
  }

  inspect(id: string): ContainerStatus {
    return this.get(id).status;
  }

  list(): ContainerStatus[] {
    return [...this.containers.values()].map((m) => m.status).sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Resolves when the condition holds; fails as soon as it can no longer hold, or on timeout. */
  waitFor(id: string, condition: WaitCondition, timeoutMs = 60_000): Promise<ContainerStatus> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | null = null;
      const finish = (err: TscError | null, st?: ContainerStatus): void => {
        this.listeners.delete(check);
        if (timer) clearTimeout(timer);
        if (err) reject(err);
        else resolve(st!);
      };
      const since = Date.now();
      const baseRestarts = this.get(id).status.restartCount; // unknown id: throw now
      let lastExit: number | null = null;
      const check = (): void => {
        const m = this.containers.get(id);
        if (!m) return finish(new TscError('UP_CONDITION', `container ${id} was removed while waiting for it to be ${condition}`));
        if (m.status.exitCode !== null) lastExit = m.status.exitCode;
        const verdict = judgeWait(m, condition, baseRestarts, since, lastExit);
        if (verdict === 'met') finish(null, m.status);
        else if (verdict !== 'pending') finish(new TscError('UP_CONDITION', verdict.failed, { hint: verdict.hint }));
      };
      this.listeners.add(check);
      timer = setTimeout(() => {
        const m = this.containers.get(id);
        const health = m?.status.health?.log.at(-1);
        finish(
          new TscError(
            'UP_CONDITION',
            `container ${id} did not become ${condition} within ${Math.round(timeoutMs / 1000)} s (state ${m?.status.state ?? 'removed'}${
              m?.status.health ? `, health ${m.status.health.status}` : ''
            })`,
            { hint: health ? `last healthcheck output: ${health.output.trim() || '(none)'}` : undefined },
          ),
        );
      }, timeoutMs);
      timer.unref();
      check();
    });
  }

  /**
   * Sends stored log entries, then (with follow) new ones as they are written. Resolves with the
   * number of entries sent when the stream ends: at once without follow, else when `signal`
   * aborts, the container is removed, or (untilExit) the container has exited for good.
   */
  async logs(id: string, q: LogsQuery, send: (e: LogEntry) => void, signal?: AbortSignal): Promise<number> {
    const m = this.get(id);
    const sinceNs = sinceToNs(q.since);
    const backlog = readLogs(m.files.log, m.logOpts.maxFile, { tail: q.tail, sinceNs });
    // Subscribe before sending the backlog is not needed: all of this runs in one tick.
    let count = 0;
    for (const e of backlog) {
      send(e);
      count++;
    }
    if (!q.follow) return count;
    const finished = (): boolean => q.untilExit === true && (m.status.state === 'exited' || m.status.state === 'dead');
    if (finished() || m.removed) return count;
    return new Promise((resolve) => {
      const done = (): void => {
        m.followers.delete(follower);
        this.listeners.delete(onState);
        signal?.removeEventListener('abort', done);
        resolve(count);
      };
      const follower = (e: LogEntry | null): void => {
        if (e === null) return done();
        send(e);
        count++;
      };
      const onState = (): void => {
        if (finished()) done();
      };
      m.followers.add(follower);
      this.listeners.add(onState);
      signal?.addEventListener('abort', done);
      if (signal?.aborted) done();
    });
  }

  /** Calls `fn` for every container event until `signal` aborts; resolves then. */
  events(fn: (e: SupervisorEvent) => void, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.eventListeners.delete(fn);
        resolve();
      };
      this.eventListeners.add(fn);
      signal.addEventListener('abort', done);
      if (signal.aborted || this.closed) done();
    });
  }

  private emit(m: Managed, action: SupervisorEvent['action']): void {
    const e: SupervisorEvent = { time: nowRfc3339Nano(), container: m.config.spec.id, action, status: m.status };
    for (const l of [...this.eventListeners]) l(e);
  }

  /** Names of containers that are running (or about to restart). */
  runningContainers(): string[] {
    return this.list()
      .filter((s) => s.state === 'running' || s.state === 'paused' || s.state === 'restarting')
      .map((s) => s.id);
  }

  /**
   * Stops watching: containers keep running (they can be re-adopted), pending restarts are
   * dropped, readers and log files closed, hooks closed.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopExitEvents();
    for (const m of this.containers.values()) {
      this.cancelRestart(m);
      if (m.run) {
        m.run.stopWatch();
        m.run.health?.stop();
        for (const r of m.run.readers) r.destroy();
        m.run.token = -1;
      }
      m.writer?.close();
      for (const f of m.followers) f(null);
    }
    this.eventListeners.clear();
    for (const h of this.hooks) {
      try {
        await h.close?.();
      } catch (err) {
        this.log(`hook ${h.name}: close failed: ${(err as Error).message}`);
      }
    }
  }

  // ---- one run of a container ---------------------------------------------------------------

  private async startRun(m: Managed): Promise<void> {
    const spec = m.config.spec;
    mkfifo(m.files.stdoutFifo);
    mkfifo(m.files.stderrFifo);
    // The container gets the FIFOs opened read-write: a FIFO opened so never blocks on open, and
    // a write never raises SIGPIPE even when no supervisor is reading.
    const outW = openSync(m.files.stdoutFifo, fsConstants.O_RDWR);
    const errW = openSync(m.files.stderrFifo, fsConstants.O_RDWR);
    // room for output written while no supervisor reads (a full pipe blocks the writer)
    growPipe(outW, PIPE_BYTES);
    growPipe(errW, PIPE_BYTES);
    // stdin_open (and tty, which Compose users rely on to keep a shell waiting): a FIFO the
    // container also holds for writing, so reading it waits forever instead of seeing EOF.
    let inRW: number | undefined;
    if (spec.process.openStdin || spec.process.tty) {
      mkfifo(m.files.stdinFifo);
      inRW = openSync(m.files.stdinFifo, fsConstants.O_RDWR);
    }
    const token = this.nextToken++;
    const run = this.newRun(token);
    if (!m.writer) m.writer = new LogWriter(m.files.log, m.logOpts);
    let started;
    let prepared = false;
    try {
      await this.beforeStartHooks(m);
      prepared = true;
      run.readers = [this.openReader(m, 'stdout'), this.openReader(m, 'stderr')];
      started = await this.runtime.start(spec, { stdin: inRW, stdout: outW, stderr: errW });
    } catch (err) {
      for (const r of run.readers) r.destroy();
      if (prepared) await this.callHooks('onContainerExit', m);
      throw err;
    } finally {
      closeSync(outW);
      closeSync(errW);
      if (inRW !== undefined) closeSync(inRW);
    }
    m.run = run;
    const now = new Date();
    m.status = {
      ...m.status,
      state: 'running',
      pid: started.pid,
      startTime: started.startTime,
      startedAt: now.toISOString(),
      exitCode: null,
      exitReason: undefined,
      oomKilled: false,
      error: undefined,
      health: m.config.healthcheck && probeArgs(m.config.healthcheck.test) ? initialHealth() : undefined,
    };
    this.save(m);
    let watching = true;
    run.stopWatch = () => {
      watching = false;
    };
    started.exited.then(
      (st) => {
        if (watching) void this.handleExit(m, token, st);
      },
      (err) => {
        if (watching) {
          this.log(`container ${spec.id}: waiting for its exit failed: ${(err as Error).message}`);
          void this.handleExit(m, token, null);
        }
      },
    );
    run.health = this.startHealth(m, started.pid, now.getTime());
    this.emit(m, 'start');
    await this.callHooks('onContainerStart', m);
    this.notify();
  }

  private async handleExit(m: Managed, token: number, st: ExitStatus | null): Promise<void> {
    const run = m.run;
    if (!run || run.token !== token) return;
    run.health?.stop();
    const uptime = m.status.startedAt ? Date.now() - Date.parse(m.status.startedAt) : 0;
    await this.drain(run);
    let oomKilled = false;
    // The engine's OOM flag covers the cgroup's life; a SIGKILL the user asked for is no OOM kill.
    if (st && st.exitCode === 137 && !m.status.stoppedByUser) {
      try {
        oomKilled = await this.runtime.isOomKilled(m.config.spec);
      } catch (err) {
        this.log(`container ${m.config.spec.id}: OOM check failed: ${(err as Error).message}`);
      }
    }
    const pid = m.status.pid;
    m.status = {
      ...m.status,
      state: 'exited',
      pid: null,
      startTime: null,
      finishedAt: new Date().toISOString(),
      exitCode: st ? st.exitCode : null,
      exitReason: st
        ? undefined
        : 'the container was re-adopted by a new supervisor, which is not its parent and cannot learn its exit code',
      oomKilled,
    };
    m.run = null;
    this.save(m);
    this.emit(m, 'die');
    await this.callHooks('onContainerExit', m, pid);
    this.afterExit(m, st === null ? null : st.exitCode !== 0, uptime);
    run.resolveDone();
    this.notify();
  }

  /** Applies the restart policy after an exit; `failed` null = exit code unknown. */
  private afterExit(m: Managed, failed: boolean | null, uptimeMs: number): void {
    if (this.closed || m.removed || m.status.stoppedByUser) return;
    const p = m.config.restart;
    let restart = false;
    if (p.name === 'always' || p.name === 'unless-stopped') restart = true;
    else if (p.name === 'on-failure') {
      restart = failed === true && (p.maxRetries === undefined || p.maxRetries <= 0 || m.status.restartCount < p.maxRetries);
    }
    if (!restart) return;
    if (uptimeMs >= BACKOFF_RESET_UPTIME_MS) m.backoffMs = BACKOFF_START_MS;
    const delay = m.backoffMs;
    m.backoffMs = Math.min(m.backoffMs * 2, BACKOFF_MAX_MS);
    m.status = { ...m.status, state: 'restarting' };
    this.save(m);
    this.emit(m, 'restarting');
    m.restartTimer = setTimeout(() => {
      m.restartTimer = null;
      if (this.closed || m.removed || m.status.stoppedByUser) return;
      m.status = { ...m.status, restartCount: m.status.restartCount + 1 };
      this.startRun(m).catch((err) => {
        this.log(`container ${m.config.spec.id}: restart failed: ${(err as Error).message}`);
        m.status = {
          ...m.status,
          state: 'exited',
          exitCode: null,
          exitReason: `restart failed: ${(err as Error).message}`,
          error: wireOf(err),
          finishedAt: new Date().toISOString(),
        };
        this.save(m);
        // a start failure counts as a failed run: on-failure counts it, always retries with backoff
        this.afterExit(m, true, 0);
        this.notify();
      });
    }, delay);
    m.restartTimer.unref();
    this.notify();
  }

  private startHealth(m: Managed, pid: number, startedAtMs: number): HealthMonitor | null {
    const cfg = m.config.healthcheck;
    if (!cfg || !probeArgs(cfg.test)) return null;
    if (!m.status.health) m.status.health = initialHealth();
    const monitor = new HealthMonitor(
      cfg,
      startedAtMs,
      (args, timeoutMs) => this.probe(m, pid, args, timeoutMs),
      () => m.status.health ?? initialHealth(),
      (health) => {
        if (m.status.state !== 'running' || m.status.pid !== pid) return;
        const changed = m.status.health?.status !== health.status;
        m.status = { ...m.status, health };
        this.save(m);
        if (changed) this.emit(m, 'health_status');
        this.notify();
      },
    );
    monitor.start();
    return monitor;
  }

  /**
   * One healthcheck probe: the command runs inside the container with a file in the bundle as
   * its stdout/stderr (read back afterwards); past `timeoutMs` it is killed and counts as failed.
   */
  private async probe(m: Managed, pid: number, args: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
    const p = m.config.spec.process;
    const outFile = path.join(m.config.spec.bundleDir, 'health-probe.out');
    let fd: number;
    try {
      fd = openSync(outFile, 'w+', 0o600);
    } catch (err) {
      return { exitCode: -1, output: `healthcheck could not run: ${(err as Error).message}` };
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), timeoutMs);
    });
    try {
      const started = this.runtime.exec(m.config.spec, pid, { args, env: p.env, cwd: p.cwd, user: p.user }, { stdout: fd, stderr: fd });
      const handle = await Promise.race([started, timeout]);
      if (handle === 'timeout') {
        started.then((h) => h.kill(), () => {});
        return { exitCode: -1, output: `Health check exceeded timeout (${timeoutMs}ms)` };
      }
      const st = await Promise.race([handle.exited, timeout]);
      if (st === 'timeout') {
        handle.kill();
        return { exitCode: -1, output: `Health check exceeded timeout (${timeoutMs}ms)` };
      }
      const buf = Buffer.alloc(4096);
      const n = readSync(fd, buf, 0, buf.length, 0);
      return { exitCode: st.exitCode, output: buf.subarray(0, n).toString('utf8') };
    } catch (err) {
      return { exitCode: -1, output: `healthcheck could not run: ${(err as Error).message}` };
    } finally {
      clearTimeout(timer);
      closeSync(fd);
    }
  }

  // ---- stdio and logs ---------------------------------------------------------------------------

  private openReader(m: Managed, stream: 'stdout' | 'stderr'): net.Socket {
    const fifo = stream === 'stdout' ? m.files.stdoutFifo : m.files.stderrFifo;
    const fd = openSync(fifo, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    const sock = new net.Socket({ fd, readable: true, writable: false });
    const splitter = new LineSplitter(stream, (e) => this.writeLog(m, e));
    sock.on('data', (b: Buffer) => splitter.push(b));
    sock.on('end', () => splitter.flush());
    sock.on('close', () => splitter.flush());
    sock.on('error', (err) => this.log(`container ${m.config.spec.id}: reading ${stream} failed: ${err.message}`));
    return sock;
  }

  private writeLog(m: Managed, e: LogEntry): void {
    if (!m.writer || m.logOpts.driver === 'none') return;
    try {
      m.writer.write(e);
    } catch (err) {
      this.log(`container ${m.config.spec.id}: ${(err as Error).message}`);
    }
    for (const f of m.followers) f(e);
  }

  /** Reads what the container wrote before it exited, up to EOF or DRAIN_MS. */
  private async drain(run: RunHandle): Promise<void> {
    await Promise.all(
      run.readers.map(
        (r) =>
          new Promise<void>((resolve) => {
            if (r.destroyed || r.readableEnded) return resolve();
            const t = setTimeout(() => {
              r.destroy();
              resolve();
            }, DRAIN_MS);
            r.once('close', () => {
              clearTimeout(t);
              resolve();
            });
            r.once('end', () => {
              clearTimeout(t);
              r.destroy();
              resolve();
            });
          }),
      ),
    );
  }

  // ---- records --------------------------------------------------------------------------------

  private newManaged(config: RunConfig, status: ContainerStatus): Managed {
    return {
      config,
      files: bundleFiles(config.spec.bundleDir),
      logOpts: { ...LOG_DEFAULTS, ...(config.log ?? {}) },
      status,
      writer: null,
      run: null,
      restartTimer: null,
      backoffMs: BACKOFF_START_MS,
      followers: new Set(),
      removed: false,
      starting: false,
      startDone: null,
    };
  }

  private newRun(token: number): RunHandle {
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => (resolveDone = r));
    return { token, readers: [], done, resolveDone, health: null, stopWatch: () => {} };
  }

  private get(id: string): Managed {
    const m = this.containers.get(id);
    if (!m) throw this.unknown(id);
    return m;
  }

  private unknown(id: string): TscError {
    return new TscError('NO_SUCH_SERVICE', `no such container ${id} in project ${this.opts.project}`, {
      hint: 'list the project\'s containers with `tscompose ps -a`',
    });
  }

  private cancelRestart(m: Managed): void {
    if (m.restartTimer) clearTimeout(m.restartTimer);
    m.restartTimer = null;
  }

  private assertOpen(): void {
    if (this.closed) throw new TscError('SUPERVISOR', `the supervisor of project ${this.opts.project} is shutting down`);
  }

  private save(m: Managed): void {
    if (m.removed) return;
    try {
      this.writeAtomic(m.files.status, JSON.stringify(m.status, null, 1));
    } catch (err) {
      this.log(`container ${m.config.spec.id}: saving status failed: ${(err as Error).message}`);
    }
  }

  /** Records hold the container's environment: readable by root only. */
  private writeAtomic(file: string, data: string): void {
    const tmp = `${file}.tmp-${process.pid}`;
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, file);
  }

  private get indexFile(): string {
    return path.join(this.paths.dir, 'supervised.json');
  }

  private readIndex(): Record<string, string> {
    try {
      return (JSON.parse(readFileSync(this.indexFile, 'utf8')) as { containers: Record<string, string> }).containers ?? {};
    } catch {
      return {};
    }
  }

  private writeIndex(): void {
    const containers: Record<string, string> = {};
    for (const [id, m] of this.containers) containers[id] = m.config.spec.bundleDir;
    this.writeAtomic(this.indexFile, JSON.stringify({ containers }, null, 1));
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  /** Hooks that must succeed before a start (the first failure aborts it; earlier ones are undone). */
  private async beforeStartHooks(m: Managed): Promise<void> {
    const ctx: HookContext = { id: m.config.spec.id, pid: null, config: m.config, status: m.status };
    const done: SupervisorHook[] = [];
    for (const h of this.hooks) {
      if (!h.beforeStart) continue;
      try {
        await h.beforeStart.call(h, ctx);
        done.push(h);
      } catch (err) {
        for (const d of done) await Promise.resolve(d.onContainerExit?.call(d, ctx)).catch(() => undefined);
        throw err;
      }
    }
  }

  private async callHooks(event: 'onContainerStart' | 'onContainerExit' | 'onContainerRemove', m: Managed, pid?: number | null): Promise<void> {
    const ctx: HookContext = { id: m.config.spec.id, pid: pid ?? m.status.pid, config: m.config, status: m.status };
    for (const h of this.hooks) {
      const fn = h[event];
      if (!fn) continue;
      try {
        await fn.call(h, ctx);
      } catch (err) {
        this.log(`hook ${h.name}: ${event} for ${ctx.id} failed: ${(err as Error).message}`);
      }
    }
  }
}

function wireOf(err: unknown): { code: string; message: string; hint?: string } {
  if (isTscError(err)) return { code: err.code, message: err.message, hint: err.hint };
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(onTimeout()), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
