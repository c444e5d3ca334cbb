/**
 * The supervisor's core: the containers of one project and the verbs on them (run, start, stop,
 * kill, pause, unpause, remove, remove-many) and queries (inspect, list, wait-for, logs,
 * events). Transport-free: server.ts feeds it requests from the socket. The work is done by
 * one module per job, sharing a SupervisorCore (managed.ts):
 *   adoption.ts   re-adoption at start-up          run-loop.ts    one run, exit, restart policy
 *   store.ts      the records and their one writer lifecycle.ts   the allowed state moves
 *   log-pump.ts   FIFOs → json log, followers      health-runner.ts healthchecks
 *   hook-runner.ts network hooks                   queries.ts     wait-for, logs
 *   bus.ts        change listeners and events
 */
import { mkdirSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { TscError } from '../common/errors.js';
import { AdoptedExits, adoptRecorded } from './adoption.js';
import type { Attachment, AttachLink } from './attach.js';
import { runAttached } from './attached-run.js';
import { EventBus } from './bus.js';
import { probeArgs } from './health.js';
import { startHealth } from './health-runner.js';
import type { SupervisorHook } from './hooks.js';
import { callHooks, closeHooks } from './hook-runner.js';
import { assertTransition } from './lifecycle.js';
import { DRAIN_MS } from './log-pump.js';
import { cancelRestart, newManaged, type Managed, type RunHandle } from './managed.js';
import type { SupervisorCore } from './core.js';
import { projectPaths, type ProjectPaths } from './paths.js';
import { toWireError, type AttachedExit, type AttachOptions, type RemoveOutcome, type WaitCondition } from './protocol.js';
import { streamLogs, waitFor, type LogSink, type LogsQuery } from './queries.js';
import { startRun, stopTimeoutError, whileStarting, wireOf, withTimeout } from './run-loop.js';
import { signalNumber, type ContainerRuntime } from './runtime.js';
import { RecordStore } from './store.js';
import type { ContainerStatus, RunConfig, SupervisorEvent } from './types.js';

export type { LogsQuery } from './queries.js';

export interface SupervisorOptions {
  root: string;
  project: string;
  runtime: ContainerRuntime;
  hooks?: SupervisorHook[];
  /** diagnostics for the supervisor's own log (never shown to users directly) */
  log?: (line: string) => void;
}

/** States in which a container is live (or about to be): not removable without force, not runnable again. */
const LIVE_STATES: ReadonlySet<string> = new Set(['running', 'paused', 'restarting']);

export class Supervisor {
  readonly paths: ProjectPaths;
  private readonly core: SupervisorCore;
  private readonly containers = new Map<string, Managed>();
  private readonly store: RecordStore;
  private readonly bus = new EventBus();
  private readonly exits = new AdoptedExits();
  private closed = false;
  private nextToken = 1;

  constructor(private readonly opts: SupervisorOptions) {
    this.paths = projectPaths(opts.root, opts.project);
    const log = opts.log ?? (() => {});
    this.store = new RecordStore(this.paths.index, log);
    this.core = {
      project: opts.project,
      runtime: opts.runtime,
      hooks: opts.hooks ?? [],
      log,
      containers: this.containers,
      store: this.store,
      bus: this.bus,
      isClosed: () => this.closed,
      newToken: () => this.nextToken++,
    };
    mkdirSync(this.paths.dir, { recursive: true });
  }

  /**
   * Loads the containers recorded by an earlier supervisor of this project (adoption.ts);
   * returns those adopted running.
   */
  adopt(): Promise<string[]> {
    return adoptRecorded(this.core, this.exits);
  }

  // ---- verbs ------------------------------------------------------------------------------

  /** Starts a container (with `attach`, its stdio relayed to a client: attached-run.ts). */
  async runContainer(config: RunConfig, attach?: Attachment): Promise<ContainerStatus> {
    this.assertOpen();
    const id = config.spec.id;
    if (config.healthcheck) probeArgs(config.healthcheck.test); // validate before starting
    const old = this.containers.get(id);
    if (old && (LIVE_STATES.has(old.status.state) || old.starting)) {
      throw new TscError('SUPERVISOR', `container ${id} is already ${old.starting ? 'starting' : old.status.state}`, {
        hint: 'stop it first, or remove it to create it again',
      });
    }
    const m = newManaged(config, {
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
    });
    m.attach = attach ?? null;
    if (old) {
      assertTransition(id, old.status.state, 'created'); // its record is replaced by the new one below
      if (old.config.spec.bundleDir !== config.spec.bundleDir) old.writer?.close();
      else m.writer = old.writer;
      // keep followers of an earlier run of the same container
      m.followers = old.followers;
    }
    mkdirSync(config.spec.bundleDir, { recursive: true });
    this.containers.set(id, m);
    this.store.create(m);
    this.store.writeIndex(this.containers);
    try {
      await whileStarting(m, () => startRun(this.core, m));
    } catch (err) {
      this.store.transition(m, 'dead', { error: wireOf(err), finishedAt: new Date().toISOString() });
      this.bus.notify();
      throw err;
    }
    // it runs, but a full disk may have kept its record at "created": say so (the next request writes it)
    return this.store.saved(m);
  }

  /** Runs a container attached to a client's connection until it exits: see attached-run.ts. */
  runAttached(config: RunConfig, opts: AttachOptions, link: AttachLink, requestId: number): Promise<AttachedExit> {
    this.assertOpen();
    return runAttached(this.core, this, config, opts, link, requestId);
  }

  /** Starts a stopped container again from its recorded run request (restart count reset). */
  async start(id: string): Promise<ContainerStatus> {
    return this.runContainer(this.get(id).config);
  }

  async stop(id: string, signal?: string, timeoutMs?: number): Promise<ContainerStatus> {
    const m = this.get(id);
    if (m.starting && m.startDone) await m.startDone; // then stop what it started
    cancelRestart(m);
    if (m.status.state === 'restarting') {
      this.store.transition(m, 'exited', { stoppedByUser: true });
      return this.store.saved(m);
    }
    this.store.update(m, { stoppedByUser: true });
    if (m.status.state === 'paused') await this.thaw(m); // frozen processes cannot act on a signal
    if (m.status.state !== 'running' || !m.run || !m.status.pid) return this.store.saved(m);
    const sig = signalNumber(signal ?? m.config.stopSignal ?? 'SIGTERM');
    const grace = timeoutMs ?? m.config.stopGraceMs ?? 10_000;
    const run = m.run;
    await this.opts.runtime.stop(m.config.spec, m.status.pid, sig, grace);
    await withTimeout(run.done, 10_000 + DRAIN_MS, () => stopTimeoutError(id));
    return this.store.saved(m);
  }

  /** Writes again records whose last write failed; called before each request is served. */
  flushRecords(): void {
    this.store.flush();
  }

  async kill(id: string, signal?: string): Promise<ContainerStatus> {
    const m = this.get(id);
    if (m.status.state === 'paused') await this.thaw(m);
    if (m.status.state !== 'running' || !m.status.pid) {
      throw new TscError('ENGINE_NOT_RUNNING', `container ${id} is not running (state ${m.status.state})`);
    }
    const sig = signalNumber(signal ?? 'SIGKILL');
    this.store.update(m, { stoppedByUser: true });
    await this.opts.runtime.kill(m.config.spec, m.status.pid, sig);
    return m.status;
  }

  /** Freezes the container (compose pause); its healthcheck waits until it is thawed. */
  async pause(id: string): Promise<ContainerStatus> {
    const m = this.get(id);
    if (m.status.state !== 'running' || !m.run) {
      throw new TscError('ENGINE_NOT_RUNNING', `container ${id} is not running (state ${m.status.state}): nothing to pause`);
    }
    await this.opts.runtime.pause(m.config.spec);
    // it may have exited while the freezer was set
    if (m.status.state !== 'running' || !m.run) return m.status;
    m.run.health?.stop();
    m.run.health = null;
    this.store.transition(m, 'paused');
    this.bus.emit(m.status, 'pause');
    this.bus.notify();
    return this.store.saved(m);
  }

  async unpause(id: string): Promise<ContainerStatus> {
    const m = this.get(id);
    if (m.status.state !== 'paused') {
      throw new TscError('ENGINE_NOT_RUNNING', `container ${id} is not paused (state ${m.status.state})`);
    }
    await this.thaw(m);
    return this.store.saved(m);
  }

  private async thaw(m: Managed): Promise<void> {
    await this.opts.runtime.unpause(m.config.spec);
    if (m.status.state !== 'paused') return; // it exited while frozen
    this.store.transition(m, 'running');
    if (m.run && m.status.pid) {
      m.run.health = startHealth(this.core, m, m.status.pid, Date.parse(m.status.startedAt ?? new Date().toISOString()));
    }
    this.bus.emit(m.status, 'unpause');
    this.bus.notify();
  }

  async remove(id: string, force = false): Promise<void> {
    const m = this.get(id);
    if (m.starting && m.startDone) await m.startDone; // a start under way is running or dead once it settles
    if (LIVE_STATES.has(m.status.state)) {
      if (!force) {
        throw new TscError('SUPERVISOR', `container ${id} is ${m.status.state} and cannot be removed`, {
          hint: 'stop it first, or remove with force',
        });
      }
      await this.stop(id, 'SIGKILL', 0);
    }
    await this.forgetContainer(id, m);
    this.store.writeIndex(this.containers);
    await this.afterRemove(m);
  }

  /**
   * Stops and removes many containers (down): stop() and remove() for each, but with one grace
   * period and batched kills for all (the runtime's stopMany) and one write of the index. Each
   * container's outcome is reported apart, in the order asked; an unknown container is
   * NO_SUCH_SERVICE, as for remove().
   */
  async removeMany(ids: string[], opts: { signal?: string; timeoutMs?: number } = {}): Promise<RemoveOutcome[]> {
    const runtime = this.opts.runtime;
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
        cancelRestart(m);
        if (m.status.state === 'restarting') this.store.transition(m, 'exited', { stoppedByUser: true });
        else this.store.update(m, { stoppedByUser: true });
        if (m.status.state === 'paused') await this.thaw(m);
        if (m.status.state !== 'running' || !m.run || !m.status.pid) continue;
        const signal = sig ?? signalNumber(m.config.stopSignal ?? 'SIGTERM');
        toStop.push({ id, m, run: m.run, pid: m.status.pid, signal, graceMs: opts.timeoutMs ?? m.config.stopGraceMs ?? 10_000 });
      } catch (err) {
        errors.set(id, err);
      }
    }
    let batched = false;
    if (runtime.stopMany && toStop.length) {
      try {
        await runtime.stopMany(toStop.map(({ m, pid, signal, graceMs }) => ({ spec: m.config.spec, pid, signal, graceMs })));
        batched = true;
      } catch (err) {
        this.core.log(`stopping ${toStop.length} containers together failed (${(err as Error).message}); stopping them one by one`);
      }
    }
    await Promise.all(
      toStop.map(async ({ id, m, run, pid, signal, graceMs }) => {
        try {
          if (!batched) await runtime.stop(m.config.spec, pid, signal, graceMs);
          await withTimeout(run.done, 10_000 + DRAIN_MS, () => stopTimeoutError(id));
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
    if (removed.length) this.store.writeIndex(this.containers);
    for (const m of removed) await this.afterRemove(m);
    return ids.map((id) => (errors.has(id) ? { id, error: toWireError(errors.get(id)) } : { id }));
  }

  /** The engine's and the bundle's part of removing a stopped container; the index is the caller's. */
  private async forgetContainer(id: string, m: Managed): Promise<void> {
    cancelRestart(m);
    // the engine first: when it fails, the container stays listed and removable again
    await this.opts.runtime.remove(m.config.spec);
    this.store.transition(m, 'removed');
    m.writer?.close();
    m.writer = null;
    const f = m.files;
    const files = [f.stdinFifo, f.stdoutFifo, f.stderrFifo, f.status, f.run, f.log, f.healthProbe];
    // rotated logs, whatever max-file was when they were written
    const logDir = path.dirname(f.log);
    const base = `${path.basename(f.log)}.`;
    for (const n of await readdir(logDir).catch(() => [] as string[])) {
      if (n.startsWith(base) && /^\d+$/.test(n.slice(base.length))) files.push(path.join(logDir, n));
    }
    await Promise.all(files.map((file) => rm(file, { force: true })));
    this.containers.delete(id);
  }

  /** Tells followers, event listeners and hooks that a container is gone (after the index is written). */
  private async afterRemove(m: Managed): Promise<void> {
    for (const f of m.followers) f(null);
    m.followers.clear();
    this.bus.emit(m.status, 'remove');
    await callHooks(this.core, 'onContainerRemove', m);
    this.bus.notify();
  }

  // ---- queries ----------------------------------------------------------------------------

  inspect(id: string): ContainerStatus {
    return this.get(id).status;
  }

  list(): ContainerStatus[] {
    return [...this.containers.values()].map((m) => m.status).sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Resolves when the condition holds; fails as soon as it can no longer hold, or on timeout. */
  async waitFor(id: string, condition: WaitCondition, timeoutMs = 60_000): Promise<ContainerStatus> {
    return waitFor(this.core, this.get(id), condition, timeoutMs);
  }

  /** Stored log entries, then (with follow) new ones: see queries.ts streamLogs. */
  async logs(id: string, q: LogsQuery, out: LogSink, signal?: AbortSignal): Promise<number> {
    return streamLogs(this.core, this.get(id), q, out, signal);
  }

  /** Calls `fn` for every container event until `signal` aborts; resolves then. */
  events(fn: (e: SupervisorEvent) => void, signal: AbortSignal): Promise<void> {
    return this.bus.events(fn, signal);
  }

  /** Names of containers that are running (or about to restart). */
  runningContainers(): string[] {
    return this.list()
      .filter((s) => LIVE_STATES.has(s.state))
      .map((s) => s.id);
  }

  /**
   * Stops watching: containers keep running (they can be re-adopted), pending restarts are
   * dropped, readers and log files closed, hooks closed.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.exits.close();
    for (const m of this.containers.values()) {
      cancelRestart(m);
      if (m.run) {
        m.run.stopWatch();
        m.run.health?.stop();
        for (const r of m.run.readers) r.destroy();
        m.run.token = -1;
      }
      m.writer?.close();
      for (const f of m.followers) f(null);
    }
    this.bus.close();
    await closeHooks(this.core);
  }

  // ---- helpers ------------------------------------------------------------------------------

  private get(id: string): Managed {
    const m = this.containers.get(id);
    if (!m) throw this.unknown(id);
    return m;
  }

  private unknown(id: string): TscError {
    return new TscError('NO_SUCH_SERVICE', `no such container ${id} in project ${this.opts.project}`, {
      hint: "list the project's containers with `tscompose ps -a`",
    });
  }

  private assertOpen(): void {
    if (this.closed) throw new TscError('SUPERVISOR', `the supervisor of project ${this.opts.project} is shutting down`);
  }
}
