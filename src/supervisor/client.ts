/**
 * The CLI's side of the supervisor: a typed client over the project's socket (one connection
 * per request) and ensureSupervisor(), which starts the project's supervisor when none answers.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, statSync } from 'node:fs';
import net from 'node:net';
import { TscError } from '../common/errors.js';
import { bundledEntry } from '../common/paths.js';
import { openAttachedRun, type AttachedRun, type AttachHandlers } from './attach-client.js';
import { projectPaths, socketAddress, socketError } from './paths.js';
import {
  checkResponse,
  encode,
  fromWireError,
  LineDecoder,
  startupErrorOf,
  STARTUP_ERROR_EXIT,
  toWireError,
  type AttachOptions,
  type RemoveOutcome,
  type Request,
  type ResultMap,
  type Response,
  type WaitCondition,
} from './protocol.js';
import type { ContainerStatus, LogEntry, RunConfig, SupervisorEvent } from './types.js';
import { faultPoint } from '../sys/fault.js';
import { processAlive, processStartTime } from '../engine/procfs.js';

/** A supervisor that accepted to shut down but whose process is still there after the wait. */
export class SupervisorStillRunning extends TscError {
  constructor(project: string, pid: number, waitMs: number) {
    super('SUPERVISOR', `the supervisor of project ${project} (pid ${pid}) did not exit within ${waitMs / 1000} s of being asked to`, {
      hint: `see supervisor.log in the project's folder of the state root; kill ${pid} if it hangs (a new supervisor re-adopts any container)`,
    });
  }
}

/** How long shutdown() waits for the supervisor's process to be gone. */
const SHUTDOWN_WAIT_MS = 10_000;

type Body<T extends Request['type']> = Omit<Extract<Request, { type: T }>, 'id'>;

export interface LogsOptions {
  tail?: number;
  since?: string | number;
  follow?: boolean;
  untilExit?: boolean;
}

export class SupervisorClient {
  private nextId = 1;

  constructor(
    readonly socketPath: string,
    readonly project: string,
  ) {}

  ping(timeoutMs = 2_000): Promise<ResultMap['ping']> {
    return this.request<'ping'>({ type: 'ping' }, undefined, undefined, timeoutMs);
  }

  /** Starts a container; resolves once it runs (its pid and start time are in the result). */
  run(config: RunConfig): Promise<ResultMap['run']> {
    return this.request<'run'>({ type: 'run', config });
  }

  /**
   * Runs a container with its stdio relayed over one connection (an attached `run`); the
   * result's `exit` settles with its exit. Hanging up leaves it running, or with autoRemove
   * has it killed and removed.
   */
  runAttached(config: RunConfig, opts: AttachOptions, handlers: AttachHandlers): AttachedRun {
    return openAttachedRun(this.socketPath, this.project, this.nextId++, config, opts, handlers);
  }

  /** Starts a stopped container again with its recorded run request. */
  start(container: string): Promise<ResultMap['start']> {
    return this.request<'start'>({ type: 'start', container });
  }

  /** stop signal (default: the run's stopSignal or SIGTERM), then SIGKILL after timeoutMs. */
  stop(container: string, opts: { signal?: string; timeoutMs?: number } = {}): Promise<ContainerStatus> {
    return this.request<'stop'>({ type: 'stop', container, ...opts });
  }

  kill(container: string, signal?: string): Promise<ContainerStatus> {
    return this.request<'kill'>({ type: 'kill', container, signal });
  }

  /** Freezes every process of the container (compose pause); health checks wait meanwhile. */
  pause(container: string): Promise<ContainerStatus> {
    return this.request<'pause'>({ type: 'pause', container });
  }

  unpause(container: string): Promise<ContainerStatus> {
    return this.request<'unpause'>({ type: 'unpause', container });
  }

  async remove(container: string, force = false): Promise<void> {
    await this.request<'remove'>({ type: 'remove', container, force });
  }

  /**
   * Stops and removes many containers in one round trip (down): `signal` (default: each one's
   * stop signal), then SIGKILL after `timeoutMs` (default: each one's grace period). Resolves
   * with each container's outcome, in the order given. A supervisor of an earlier version,
   * which does not know the request, gets a stop and a remove per container instead.
   */
  async removeMany(containers: string[], opts: { signal?: string; timeoutMs?: number } = {}): Promise<RemoveOutcome[]> {
    if (!containers.length) return [];
    try {
      return (await this.request<'remove-many'>({ type: 'remove-many', containers, ...opts })).results;
    } catch (err) {
      if (!(err instanceof TscError && err.code === 'SUPERVISOR' && err.message.includes('unknown type "remove-many"'))) throw err;
    }
    return Promise.all(
      containers.map(async (id): Promise<RemoveOutcome> => {
        try {
          await this.stop(id, opts);
          await this.remove(id, true);
          return { id };
        } catch (err) {
          return { id, error: toWireError(err) };
        }
      }),
    );
  }

  inspect(container: string): Promise<ContainerStatus> {
    return this.request<'inspect'>({ type: 'inspect', container });
  }

  list(): Promise<ContainerStatus[]> {
    return this.request<'list'>({ type: 'list' });
  }

  /** Resolves when the condition holds; rejects with UP_CONDITION when it cannot, or on timeout. */
  waitFor(container: string, condition: WaitCondition, timeoutMs?: number): Promise<ContainerStatus> {
    return this.request<'wait-for'>({ type: 'wait-for', container, condition, timeoutMs });
  }

  /**
   * Streams log entries to `onEntry`; resolves with their number when the stream ends. While a
   * promise `onEntry` returned is pending, the connection is not read (the supervisor then holds
   * the container's output), so a slow consumer bounds what waits in memory.
   */
  async logs(container: string, opts: LogsOptions, onEntry: (e: LogEntry) => unknown, signal?: AbortSignal): Promise<number> {
    const r = await this.request<'logs'>({ type: 'logs', container, ...opts }, onEntry, signal);
    return r.entries;
  }

  /** Streams container events (start, die, restarting, health_status, remove) until `signal` aborts. */
  async events(onEvent: (e: SupervisorEvent) => void, signal: AbortSignal): Promise<void> {
    await this.request<'events'>({ type: 'events' }, undefined, signal, undefined, onEvent);
  }

  /**
   * Asks the supervisor to exit (without force it refuses while it owns running containers) and
   * waits until its process is gone, so that nothing of the project runs when this resolves: the
   * pid it answers a ping with, pinned by its start time against reuse. A supervisor still there
   * after `waitMs` (10 s) is a SUPERVISOR error.
   */
  async shutdown(force = false, waitMs = SHUTDOWN_WAIT_MS): Promise<void> {
    const { pid } = await this.ping();
    const startTime = processStartTime(pid);
    await this.request<'shutdown'>({ type: 'shutdown', force });
    const deadline = Date.now() + waitMs;
    while (startTime !== undefined && processAlive(pid, startTime)) {
      if (Date.now() > deadline) {
        throw new SupervisorStillRunning(this.project, pid, waitMs);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  request<T extends Request['type']>(
    body: Body<T>,
    onLog?: (e: LogEntry) => unknown,
    signal?: AbortSignal,
    timeoutMs?: number,
    onEvent?: (e: SupervisorEvent) => void,
  ): Promise<ResultMap[T]> {
    const id = this.nextId++;
    const req = { ...body, id } as Request;
    return new Promise((resolve, reject) => {
      let settled = false;
      let count = 0;
      let addr: { address: string; release(): void };
      try {
        addr = socketAddress(this.socketPath);
      } catch (err) {
        // the project directory is gone: nobody can be listening
        reject(
          new TscError('SUPERVISOR', `the supervisor of project ${this.project} is not running (no one answers on ${this.socketPath})`, {
            cause: err,
          }),
        );
        return;
      }
      const sock = net.connect(addr.address);
      const finish = (err: Error | null, value?: unknown): void => {
        if (settled) return;
        settled = true;
        addr.release();
        if (timer) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        sock.destroy();
        if (err) reject(err);
        else resolve(value as ResultMap[T]);
      };
      const onAbort = (): void => finish(null, { entries: count });
      const timer = timeoutMs
        ? setTimeout(
            () => finish(new TscError('SUPERVISOR', `the supervisor of project ${this.project} did not answer "${body.type}" within ${timeoutMs} ms`)),
            timeoutMs,
          )
        : null;
      signal?.addEventListener('abort', onAbort);
      if (signal?.aborted) return onAbort();
      sock.setEncoding('utf8');
      const decoder = new LineDecoder(
        (raw) => {
          let msg: Response;
          try {
            msg = checkResponse(raw, body.type);
          } catch (err) {
            return finish(err as Error);
          }
          if (msg.id !== id && msg.id !== -1) return;
          if (msg.type === 'log') {
            count++;
            const later = onLog?.(msg.entry);
            if (later instanceof Promise) {
              sock.pause();
              void later.then(() => sock.resume());
            }
          } else if (msg.type === 'event') {
            count++;
            onEvent?.(msg.event);
          } else if (msg.type === 'end') finish(null, { entries: count });
          else if (msg.type === 'result') finish(null, msg.result);
          else if (msg.type === 'error') finish(fromWireError(msg.error));
        },
        (line) => finish(new TscError('SUPERVISOR', `the supervisor sent a malformed line: ${line.slice(0, 200)}`)),
      );
      sock.on('connect', () => sock.write(encode(req)));
      sock.on('data', (chunk: string) => decoder.push(chunk));
      sock.on('error', (err: NodeJS.ErrnoException) => finish(socketError(this.project, this.socketPath, err)));
      sock.on('close', () =>
        finish(
          new TscError('SUPERVISOR', `the supervisor of project ${this.project} closed the connection before answering "${body.type}"`, {
            hint: `see its log in ${this.socketPath.replace(/supervisor\.sock$/, 'supervisor.log')}`,
          }),
        ),
      );
    });
  }
}

/** A client for the project's running supervisor, or null when none answers. */
export async function connectSupervisor(root: string, project: string): Promise<SupervisorClient | null> {
  const client = new SupervisorClient(projectPaths(root, project).socket, project);
  try {
    await client.ping();
    return client;
  } catch {
    return null;
  }
}

export interface EnsureOptions {
  /** how long to wait for a new supervisor to answer (default 15 s) */
  timeoutMs?: number;
  /** extra environment for a newly started supervisor */
  env?: NodeJS.ProcessEnv;
}

/**
 * The environment a new supervisor starts with: what it reads (PATH for the firewall programs, TMPDIR,
 * the TSCOMPOSE_* switches, the locale and time zone), not the whole of the caller's. It is a
 * long-lived daemon that outlives the shell that started it, and Node options such as
 * NODE_OPTIONS must not follow it there (no project file can set them: the CLI never puts a
 * project's variables into its own environment).
 */
export function daemonEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const keep = (k: string) => k === 'PATH' || k === 'TMPDIR' || k === 'TZ' || k === 'LANG' || k.startsWith('LC_') || k.startsWith('TSCOMPOSE_');
  return Object.fromEntries(Object.entries(env).filter(([k, v]) => v !== undefined && keep(k)));
}

/**
 * Returns a client for the project's supervisor, starting one when none answers. The new
 * process is detached (its own session), writes to supervisor.log and outlives the caller.
 * Two concurrent callers end up with the same supervisor: the loser of the lock race exits.
 */
export async function ensureSupervisor(root: string, project: string, opts: EnsureOptions = {}): Promise<SupervisorClient> {
  const existing = await connectSupervisor(root, project);
  if (existing) return existing;
  const paths = projectPaths(root, project);
  mkdirSync(paths.dir, { recursive: true });
  const entry = bundledEntry('bundle/supervisor.mjs', 'supervisor/main.js');
  if (!existsSync(entry)) {
    throw new TscError('SUPERVISOR', `the supervisor program ${entry} is missing`, { hint: 'build tscompose first (npx tsc -p .)' });
  }
  rotateSupervisorLog(paths.logFile);
  const logFd = openSync(paths.logFile, 'a', 0o640);
  let exited: { code: number | null; signal: string | null } | null = null;
  let child: ReturnType<typeof spawn>;
  try {
    // --lite-mode: V8 without its optimizing compilers, about 5 MiB less resident memory for a
    // long-lived process whose JavaScript is glue (data moves in native streams).
    child = spawn(process.execPath, ['--lite-mode', entry, '--root', root, '--project', project], {
      detached: true,
      stdio: ['ignore', logFd, logFd],
      cwd: '/',
      env: { ...daemonEnv(process.env), ...opts.env },
    });
    child.on('exit', (code, signal) => (exited = { code, signal }));
    child.on('error', () => (exited = { code: null, signal: null }));
    child.unref();
    faultPoint('start supervisor');
  } finally {
    closeSync(logFd);
  }
  const client = new SupervisorClient(paths.socket, project);
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  for (;;) {
    try {
      const ping = await client.ping(1_000);
      // A concurrent caller's supervisor answered: ours is redundant (it would exit on the
      // lock anyway, unless it got there after that one shut down).
      if (ping.pid !== child.pid && exited === null) child.kill('SIGTERM');
      return client;
    } catch {
      /* not up yet */
    }
    // exit code 3: another supervisor holds the lock (a concurrent start): keep pinging it
    const ex = exited as { code: number | null; signal: string | null } | null;
    if (ex && ex.code !== 3) {
      const log = tail(paths.logFile, 10);
      if (ex.code === STARTUP_ERROR_EXIT) throw startupErrorOf(log) ?? exitedWhileStarting(project, ex, paths.logFile, log);
      throw exitedWhileStarting(project, ex, paths.logFile, log);
    }
    if (Date.now() > deadline) {
      throw new TscError(
        'SUPERVISOR',
        `the supervisor of project ${project} did not answer on ${paths.socket} within ${Math.round((opts.timeoutMs ?? 15_000) / 1000)} s`,
        {
          hint: `see ${paths.logFile}`,
        },
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

const SUPERVISOR_LOG_MAX = 10 * 1024 * 1024;

/** Keeps one previous supervisor.log once it grows past 10 MiB (checked at each start). */
function rotateSupervisorLog(file: string): void {
  try {
    if (statSync(file).size > SUPERVISOR_LOG_MAX) renameSync(file, `${file}.1`);
  } catch {
    /* no log yet */
  }
}

function exitedWhileStarting(project: string, ex: { code: number | null; signal: string | null }, logFile: string, log: string): TscError {
  // a stack in the log is for whoever debugs the supervisor, not for the user's terminal
  const lines = log.split('\n').filter((l) => !/^\s+at /.test(l));
  return new TscError(
    'SUPERVISOR',
    `the supervisor of project ${project} exited while starting (${ex.signal ? `signal ${ex.signal}` : `exit code ${ex.code}`})`,
    {
      hint: `its log ${logFile} ends with:\n${lines.join('\n')}`,
    },
  );
}

function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
