/**
 * Start-up of a supervisor: the containers an earlier supervisor of the project recorded are
 * loaded again. Running ones whose process is still there are adopted (logs re-opened, exit
 * watched through a pidfd, exit code from the kernel's process events); the others are settled:
 * gone ones are marked exited with an unknown exit code and get their restart policy, and
 * interrupted starts and restarts are swept and decided again.
 */
import { processAlive } from '../engine/procfs.js';
import { ProcExitEvents, closeFd, pidfdExited, pidfdOpen } from '../sys/process-watch.js';
import { startHealth } from './health-runner.js';
import { callHooks } from './hook-runner.js';
import { recordedProcessGone, settledAsGone } from './liveness.js';
import { LogWriter } from './logs.js';
import { openReader } from './log-pump.js';
import { newManaged, newRun, type Managed } from './managed.js';
import type { SupervisorCore } from './core.js';
import { bundleFiles } from './paths.js';
import { afterExit, handleExit } from './run-loop.js';
import { RecordStore } from './store.js';

/** how often a re-adopted container (not our child) is checked for exit */
const ADOPTED_POLL_MS = 200;

/** Exit codes of adopted containers (not our children), from the kernel's process events. */
export class AdoptedExits {
  /** open while adopted containers are watched */
  private events: ProcExitEvents | null = null;
  /** host pids of adopted containers → exit code, once their exit event arrived */
  private readonly exits = new Map<number, number | undefined>();

  /** Starts listening (before any identity check, so an exit after the check is not missed). */
  open(): void {
    this.events = ProcExitEvents.open();
  }

  watch(pid: number): void {
    if (this.events) this.exits.set(pid, undefined);
  }

  unwatch(pid: number): void {
    this.exits.delete(pid);
    if (this.exits.size === 0) this.close();
  }

  /** The exit code of `pid` once its event arrived (undefined: unknown, or not yet). */
  codeOf(pid: number): number | undefined {
    this.collect();
    return this.exits.get(pid);
  }

  /** Moves queued exit events of watched pids into `exits`; drops the rest. */
  collect(): void {
    if (!this.events) return;
    for (const [pid, code] of this.events.drain()) if (this.exits.has(pid)) this.exits.set(pid, code);
  }

  closeIfIdle(): void {
    if (this.exits.size === 0) this.close();
  }

  close(): void {
    this.events?.close();
    this.events = null;
  }
}

/** Loads the project's recorded containers into `core.containers`; returns the ids adopted running. */
export async function adoptRecorded(core: SupervisorCore, exits: AdoptedExits): Promise<string[]> {
  const adopted: string[] = [];
  exits.open();
  for (const [id, bundleDir] of Object.entries(core.store.readIndex())) {
    let records;
    try {
      records = RecordStore.readRecords(bundleFiles(bundleDir));
    } catch (err) {
      core.log(`container ${id}: cannot read its records in ${bundleDir} (${(err as Error).message}); forgetting it`);
      continue;
    }
    const { config, status } = records;
    const m = newManaged(config, status);
    core.containers.set(id, m);
    if ((status.state === 'running' || status.state === 'paused') && !recordedProcessGone(status)) {
      adoptRunning(core, exits, m);
      adopted.push(id);
      await callHooks(core, 'onContainerStart', m);
    } else if (status.state === 'running' || status.state === 'paused') {
      const gone = settledAsGone();
      core.store.transition(m, 'exited', { ...gone, finishedAt: new Date().toISOString() });
      afterExit(core, m, null, 0);
    } else if (status.state === 'created') {
      // its start was under way when the previous supervisor went away: whatever it left in
      // the container's cgroup has no owner now, so it goes
      await sweep(core, m, 'an interrupted start');
      core.store.transition(m, 'exited', {
        exitCode: null,
        finishedAt: new Date().toISOString(),
        exitReason: 'its start was interrupted when the previous supervisor went away',
      });
    } else if (status.state === 'restarting') {
      // its restart was pending (or under way) when the previous supervisor went away: sweep
      // what a half-done start may have left, then decide again
      await sweep(core, m, 'an interrupted restart');
      core.store.transition(m, 'exited');
      afterExit(core, m, status.exitCode === null ? null : status.exitCode !== 0, 0);
    }
  }
  core.store.writeIndex(core.containers);
  exits.closeIfIdle();
  return adopted;
}

async function sweep(core: SupervisorCore, m: Managed, what: string): Promise<void> {
  try {
    await core.runtime.stop(m.config.spec, 0, 9, 0);
  } catch (err) {
    core.log(`container ${m.config.spec.id}: cleaning up ${what} failed: ${(err as Error).message}`);
  }
}

function adoptRunning(core: SupervisorCore, exits: AdoptedExits, m: Managed): void {
  const pid = m.status.pid!;
  const token = core.newToken();
  const run = newRun(token);
  m.run = run;
  try {
    m.writer = new LogWriter(m.files.log, m.logOpts);
    // The container holds both FIFOs open read-write, so opening the read side never blocks.
    run.readers = [openReader(core, m, 'stdout'), openReader(core, m, 'stderr')];
  } catch (err) {
    // still watch its exit: losing its logs is better than losing the container
    core.log(`container ${m.config.spec.id}: cannot re-open its output: ${(err as Error).message}`);
  }
  const pidfd = pidfdOpen(pid);
  // events queued so far are of other processes (this one was alive when it was checked)
  exits.collect();
  exits.watch(pid);
  let timer: NodeJS.Timeout | null = null;
  let watching = true;
  const check = (): void => {
    exits.collect(); // also keeps the event socket from filling up
    const gone = pidfd === null ? !processAlive(pid, m.status.startTime!) : pidfdExited(pidfd);
    if (!gone) return;
    // the kernel queues the exit event before the process becomes a zombie
    const code = exits.codeOf(pid);
    run.stopWatch();
    void handleExit(core, m, token, code === undefined ? null : { exitCode: code });
  };
  timer = setInterval(check, ADOPTED_POLL_MS);
  run.stopWatch = () => {
    if (!watching) return; // the exit check and close() may both stop it: the pidfd is closed once
    watching = false;
    if (timer) clearInterval(timer);
    timer = null;
    if (pidfd !== null) closeFd(pidfd);
    exits.unwatch(pid);
  };
  // the pidfd refers to this exact process: re-check identity now that it is held
  if (!processAlive(pid, m.status.startTime!)) check();
  if (m.status.state === 'running') {
    run.health = startHealth(core, m, pid, Date.parse(m.status.startedAt ?? new Date().toISOString()));
  }
  core.log(`container ${m.config.spec.id}: adopted ${m.status.state} pid ${pid}`);
}
