/**
 * One run of a container and what follows it: start (FIFOs, hooks, the engine), the exit
 * (drain its output, OOM check, record the exit) and the restart policy with its backoff.
 */
import { TscError, isTscError } from '../common/errors.js';
import { initialHealth, probeArgs } from './health.js';
import { startHealth } from './health-runner.js';
import { beforeStartHooks, callHooks } from './hook-runner.js';
import type { StatusPatch } from './lifecycle.js';
import { LogWriter } from './logs.js';
import { DRAIN_MS, drain, openContainerFifos, openReaders } from './log-pump.js';
import { BACKOFF_START_MS, newRun, type Managed } from './managed.js';
import type { SupervisorCore } from './core.js';
import type { ExitStatus, StartedContainer } from './runtime.js';

const BACKOFF_MAX_MS = 60_000;
/**
 * An attached run's output is read until EOF, which comes as soon as the last process holding
 * the container's output is gone (they all die with its PID 1); this bounds only a silent
 * holder of it that outlived them, a safety net (the wait goes on while the client is slow).
 */
const ATTACHED_DRAIN_IDLE_MS = 2_000;
/** uptime after which a restarted container's backoff starts again from BACKOFF_START_MS */
const BACKOFF_RESET_UPTIME_MS = 10_000;

/**
 * Starts the container's process (from `created` or `restarting`) and moves it to `running`
 * with `patch`; throws when it could not start (the state is then the caller's to set).
 */
export async function startRun(core: SupervisorCore, m: Managed, patch: StatusPatch = {}): Promise<void> {
  const spec = m.config.spec;
  const fifos = openContainerFifos(m);
  const token = core.newToken();
  const run = newRun(token);
  if (!m.writer) m.writer = new LogWriter(m.files.log, m.logOpts);
  let started: StartedContainer;
  let prepared = false;
  try {
    await beforeStartHooks(core, m);
    prepared = true;
    run.readers = openReaders(core, m, fifos);
    started = await core.runtime.start(spec, { stdin: fifos.stdin, stdout: fifos.stdout, stderr: fifos.stderr });
  } catch (err) {
    for (const r of run.readers) r.destroy();
    if (prepared) await callHooks(core, 'onContainerExit', m);
    throw err;
  } finally {
    fifos.close();
  }
  m.run = run;
  const now = new Date();
  core.store.transition(m, 'running', {
    ...patch,
    pid: started.pid,
    startTime: started.startTime,
    startedAt: now.toISOString(),
    exitCode: null,
    exitReason: undefined,
    oomKilled: false,
    error: undefined,
    health: m.config.healthcheck && probeArgs(m.config.healthcheck.test) ? initialHealth() : undefined,
  });
  let watching = true;
  run.stopWatch = () => {
    watching = false;
  };
  started.exited.then(
    (st) => {
      if (watching) void handleExit(core, m, token, st);
    },
    (err) => {
      if (watching) {
        core.log(`container ${spec.id}: waiting for its exit failed: ${(err as Error).message}`);
        void handleExit(core, m, token, null);
      }
    },
  );
  run.health = startHealth(core, m, started.pid, now.getTime());
  core.bus.emit(m.status, 'start');
  await callHooks(core, 'onContainerStart', m);
  core.bus.notify();
}

/**
 * Runs `start` with the container marked as starting, so stop and remove wait for it instead of
 * racing it; `startDone` settles when it has finished either way.
 */
export async function whileStarting<T>(m: Managed, start: () => Promise<T>): Promise<T> {
  m.starting = true;
  const started = start();
  m.startDone = started.catch(() => {});
  try {
    return await started;
  } finally {
    m.starting = false;
  }
}

/** Records the exit of run `token` (st null: its exit code is unknown), then the restart policy. */
export async function handleExit(core: SupervisorCore, m: Managed, token: number, st: ExitStatus | null): Promise<void> {
  const run = m.run;
  if (!run || run.token !== token) return;
  run.health?.stop();
  const uptime = m.status.startedAt ? Date.now() - Date.parse(m.status.startedAt) : 0;
  // an attached client gets everything the container wrote: its output is read to the end
  const att = m.attach;
  await drain(run, att ? ATTACHED_DRAIN_IDLE_MS : DRAIN_MS, () => att?.isHeld() ?? false);
  let oomKilled = false;
  // The engine's OOM flag covers the cgroup's life; a SIGKILL the user asked for is no OOM kill.
  if (st && st.exitCode === 137 && !m.status.stoppedByUser) {
    try {
      oomKilled = await core.runtime.isOomKilled(m.config.spec);
    } catch (err) {
      core.log(`container ${m.config.spec.id}: OOM check failed: ${(err as Error).message}`);
    }
  }
  const pid = m.status.pid;
  m.run = null;
  core.store.transition(m, 'exited', {
    pid: null,
    startTime: null,
    finishedAt: new Date().toISOString(),
    exitCode: st ? st.exitCode : null,
    exitReason: st ? undefined : 'the container was re-adopted by a new supervisor, which is not its parent and cannot learn its exit code',
    oomKilled,
  });
  core.bus.emit(m.status, 'die');
  await callHooks(core, 'onContainerExit', m, pid);
  if (att) att.exit();
  // an attached run is a one-off: no restart policy (docker compose run)
  else afterExit(core, m, st === null ? null : st.exitCode !== 0, uptime);
  run.resolveDone();
  core.bus.notify();
}

/** Applies the restart policy to an exited container; `failed` null = exit code unknown. */
export function afterExit(core: SupervisorCore, m: Managed, failed: boolean | null, uptimeMs: number): void {
  if (core.isClosed() || m.removed || m.status.stoppedByUser) return;
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
  core.store.transition(m, 'restarting');
  core.bus.emit(m.status, 'restarting');
  m.restartTimer = setTimeout(() => {
    m.restartTimer = null;
    if (core.isClosed() || m.removed || m.status.stoppedByUser) return;
    const restartCount = m.status.restartCount + 1;
    whileStarting(m, () => startRun(core, m, { restartCount })).catch((err) => {
      core.log(`container ${m.config.spec.id}: restart failed: ${(err as Error).message}`);
      if (m.removed || m.status.state !== 'restarting') return;
      core.store.transition(m, 'exited', {
        restartCount,
        exitCode: null,
        exitReason: `restart failed: ${(err as Error).message}`,
        error: wireOf(err),
        finishedAt: new Date().toISOString(),
      });
      // a start failure counts as a failed run: on-failure counts it, always retries with backoff
      afterExit(core, m, true, 0);
      core.bus.notify();
    });
  }, delay);
  m.restartTimer.unref();
  core.bus.notify();
}

export function wireOf(err: unknown): { code: string; message: string; hint?: string } {
  if (isTscError(err)) return { code: err.code, message: err.message, hint: err.hint };
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

export function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
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

export function stopTimeoutError(id: string): TscError {
  return new TscError('SUPERVISOR', `container ${id} was stopped but its exit was not seen within 10 s`);
}
