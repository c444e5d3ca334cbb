/**
 * The supervisor's wire protocol: newline-delimited JSON over the project's unix socket. Every
 * request carries an `id`; every response echoes it. A request gets exactly one `result` or
 * `error` response, except `logs`, which streams `log` messages and ends with `end` (or
 * `error`), `events`, which streams `event` messages until the client hangs up, and
 * `run-attached`, which streams `started` and `output` messages, takes the client's
 * `AttachInput` messages (stdin, resize, signal) on the same connection, and ends with the
 * exit as its `result`. Errors
 * cross as {code, message, hint} and become TscError again in the client. Both ends check
 * every message's shape (checkRequest, checkResponse) instead of trusting JSON.parse: a
 * malformed message is a SUPERVISOR error naming the field, never a crash.
 */
import { TscError, type ErrorCode } from '../common/errors.js';
import type { ContainerStatus, HealthState, LogEntry, RunConfig, SupervisorEvent } from './types.js';
import { WireShapeError, any, bool, either, int, list, nonEmpty, nullable, num, obj, oneOf, record, str, type Check } from './wire-check.js';

export type WaitCondition = 'running' | 'healthy' | 'exited';

export type Request =
  | { type: 'ping'; id: number }
  | { type: 'run'; id: number; config: RunConfig }
  /**
   * runs a container with its stdio relayed over this connection (an attached `run`): ends
   * when it exited (and, with autoRemove, was removed); a client that hangs up first leaves it
   * running, or, with autoRemove, has it killed and removed
   */
  | { type: 'run-attached'; id: number; config: RunConfig; attach: AttachOptions }
  /** starts a stopped container again with its recorded run request (compose start) */
  | { type: 'start'; id: number; container: string }
  | { type: 'stop'; id: number; container: string; signal?: string; timeoutMs?: number }
  | { type: 'kill'; id: number; container: string; signal?: string }
  | { type: 'pause'; id: number; container: string }
  | { type: 'unpause'; id: number; container: string }
  | { type: 'remove'; id: number; container: string; force?: boolean }
  /**
   * stop (signal, then SIGKILL after timeoutMs; each container's own stop signal and grace
   * when not given) and remove many containers in one round trip (down); each container's
   * outcome is reported apart, in the order asked
   */
  | { type: 'remove-many'; id: number; containers: string[]; signal?: string; timeoutMs?: number }
  | { type: 'inspect'; id: number; container: string }
  | { type: 'list'; id: number }
  | { type: 'wait-for'; id: number; container: string; condition: WaitCondition; timeoutMs?: number }
  | {
      type: 'logs';
      id: number;
      container: string;
      /** last N entries only */
      tail?: number;
      /** entries at or after: epoch ms, RFC 3339, Unix seconds, or a duration back ("10m") */
      since?: string | number;
      follow?: boolean;
      /** with follow: end the stream once the container has exited for good (docker logs -f) */
      untilExit?: boolean;
    }
  /** streams every container event until the client closes the connection */
  | { type: 'events'; id: number }
  | { type: 'shutdown'; id: number; force?: boolean };

export type RequestType = Request['type'];

/** How an attached run is tied to its client. */
export interface AttachOptions {
  /** a pseudo-terminal of this size instead of pipes (the run's process.tty must be set) */
  tty?: { rows: number; cols: number };
  /** remove the container once it exited; kill and remove it when the client goes away first */
  autoRemove?: boolean;
}

/** What the client of a `run-attached` sends on its connection while the container runs (`id` is the request's). */
export type AttachInput =
  /** bytes for the container's stdin, base64 */
  | { type: 'stdin'; id: number; data: string }
  /** end of the client's stdin: the container reads EOF (ignored with a terminal, as Docker does) */
  | { type: 'stdin-close'; id: number }
  | { type: 'resize'; id: number; rows: number; cols: number }
  /** a signal for the container's first process (the client's Ctrl-C without a terminal) */
  | { type: 'signal'; id: number; signal: string };

/** The end of an attached run: its exit code (null when unknown) and last status. */
export interface AttachedExit {
  exitCode: number | null;
  status: ContainerStatus;
  /** the container was removed after its exit (autoRemove) */
  removed: boolean;
}

export interface PingResult {
  pid: number;
  project: string;
  root: string;
  version: 1;
}
/** pid and startTime are null when the container exited before the answer was sent */
export interface RunResult {
  pid: number | null;
  startTime: number | null;
  status: ContainerStatus;
}

/** Result payload by request type. */
export interface ResultMap {
  ping: PingResult;
  run: RunResult;
  'run-attached': AttachedExit;
  start: RunResult;
  stop: ContainerStatus;
  kill: ContainerStatus;
  pause: ContainerStatus;
  unpause: ContainerStatus;
  remove: { removed: string };
  'remove-many': { results: RemoveOutcome[] };
  inspect: ContainerStatus;
  list: ContainerStatus[];
  'wait-for': ContainerStatus;
  logs: { entries: number };
  events: { entries: number };
  shutdown: { exiting: true };
}

export interface WireError {
  code: ErrorCode;
  message: string;
  hint?: string;
}

/** One container's outcome in a remove-many: removed, or the error that kept it. */
export interface RemoveOutcome {
  id: string;
  error?: WireError;
}

export type Response =
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; error: WireError }
  | { type: 'log'; id: number; entry: LogEntry }
  | { type: 'event'; id: number; event: SupervisorEvent }
  | { type: 'end'; id: number }
  /** run-attached: the container runs */
  | { type: 'started'; id: number; pid: number; startTime: number }
  /** run-attached: bytes the container wrote, base64 (a terminal's output is `stdout`) */
  | { type: 'output'; id: number; stream: 'stdout' | 'stderr'; data: string };

export function toWireError(err: unknown): WireError {
  if (err instanceof TscError) return { code: err.code, message: err.message, hint: err.hint };
  const e = err instanceof Error ? err : new Error(String(err));
  return { code: 'INTERNAL', message: `supervisor internal error: ${e.message}` };
}

export function fromWireError(w: WireError): TscError {
  return new TscError(w.code, w.message, { hint: w.hint });
}

/**
 * A supervisor whose start-up failed with a product error (a full disk, a corrupt record) exits
 * with STARTUP_ERROR_EXIT after logging it as `STARTUP_ERROR_PREFIX {wire error}`; the client
 * that started it raises that error instead of a generic "exited while starting".
 */
export const STARTUP_ERROR_EXIT = 4;
export const STARTUP_ERROR_PREFIX = 'start-up error: ';

/** The start-up error of a supervisor's log text (its last such line), if it logged one. */
export function startupErrorOf(log: string): TscError | undefined {
  const line = log
    .split('\n')
    .reverse()
    .find((l) => l.includes(STARTUP_ERROR_PREFIX));
  if (!line) return undefined;
  try {
    const w = JSON.parse(line.slice(line.indexOf(STARTUP_ERROR_PREFIX) + STARTUP_ERROR_PREFIX.length)) as Partial<WireError>;
    return typeof w.code === 'string' && typeof w.message === 'string' ? fromWireError({ code: w.code, message: w.message, hint: w.hint }) : undefined;
  } catch {
    return undefined;
  }
}

/** Longest message line accepted (a run request carries the whole container spec). */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

/** Splits a byte stream into JSON messages; a malformed or overlong line is reported, not thrown. */
export class LineDecoder {
  private buf = '';
  constructor(
    private readonly onMessage: (msg: unknown) => void,
    private readonly onBadLine: (line: string) => void,
  ) {}

  push(chunk: string): void {
    this.buf += chunk;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (!line.trim()) continue;
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        this.onBadLine(line);
        continue;
      }
      this.onMessage(msg);
    }
    if (this.buf.length > MAX_LINE_BYTES) {
      const head = this.buf.slice(0, 200);
      this.buf = '';
      this.onBadLine(`${head}… (a line longer than ${MAX_LINE_BYTES} bytes)`);
    }
  }
}

export function encode(msg: Request | Response | AttachInput): string {
  return JSON.stringify(msg) + '\n';
}

/**
 * `log` messages of request `id` for json-file lines (each a LogEntry's JSON and a newline), as
 * encode() would write them, without parsing the lines back: each line is wrapped as it is.
 * Returns the text and how many messages it holds.
 */
export function encodeLogLines(id: number, jsonLines: string): { text: string; count: number } {
  const head = `{"type":"log","id":${id},"entry":`;
  const text = `${head}${jsonLines.slice(0, -1).replaceAll('\n', `}\n${head}`)}}\n`;
  // each line adds head and the closing brace
  return { text, count: (text.length - jsonLines.length) / (head.length + 1) };
}

// ---- message shapes, checked on both ends (wire-check.ts) -------------------------------------

const wireError = obj<WireError>({ code: nonEmpty, message: str }, { hint: str });

const healthState = obj<HealthState>({
  status: oneOf('starting', 'healthy', 'unhealthy'),
  failingStreak: int,
  log: list(obj({ start: str, end: str, exitCode: int, output: str })),
});

const containerStatus = obj<ContainerStatus>(
  {
    id: str,
    state: oneOf('created', 'running', 'paused', 'restarting', 'exited', 'dead'),
    pid: nullable(int),
    startTime: nullable(num),
    startedAt: nullable(str),
    finishedAt: nullable(str),
    exitCode: nullable(int),
    oomKilled: bool,
    restartCount: int,
    stoppedByUser: bool,
  },
  { exitReason: str, health: healthState, error: wireError, labels: record(str) },
);

/** The parts of a run request the supervisor reads; the rest of the spec is the engine's to check. */
const runConfig = obj<RunConfig>(
  {
    spec: obj({
      id: nonEmpty,
      bundleDir: nonEmpty,
      cgroupPath: str,
      process: obj({ args: list(str), env: list(str), cwd: str }, { user: str, tty: bool, openStdin: bool }),
    }),
    restart: obj({ name: oneOf('no', 'always', 'unless-stopped', 'on-failure') }, { maxRetries: int }),
  },
  {
    healthcheck: obj({ test: list(str), interval: num, timeout: num, retries: int, startPeriod: num }, { startInterval: num }),
    log: obj({}, { driver: oneOf('json-file', 'none'), maxSize: num, maxFile: int }),
    stopSignal: str,
    stopGraceMs: num,
    network: any,
    labels: record(str),
  },
);

const container = { container: nonEmpty };

const REQUESTS: { [T in RequestType]: Check<unknown> } = {
  ping: obj({}),
  run: obj({ config: runConfig }),
  'run-attached': obj({ config: runConfig, attach: obj({}, { tty: obj({ rows: int, cols: int }), autoRemove: bool }) }),
  start: obj(container),
  stop: obj(container, { signal: str, timeoutMs: num }),
  kill: obj(container, { signal: str }),
  pause: obj(container),
  unpause: obj(container),
  remove: obj(container, { force: bool }),
  'remove-many': obj({ containers: list(nonEmpty) }, { signal: str, timeoutMs: num }),
  inspect: obj(container),
  list: obj({}),
  'wait-for': obj({ ...container, condition: oneOf('running', 'healthy', 'exited') }, { timeoutMs: num }),
  logs: obj(container, { tail: int, since: either(str, num, 'a time or a duration'), follow: bool, untilExit: bool }),
  events: obj({}),
  shutdown: obj({}, { force: bool }),
};

const runResult = obj<RunResult>({ pid: nullable(int), startTime: nullable(num), status: containerStatus });
const entries = obj({ entries: int });

const RESULTS: { [T in RequestType]: Check<unknown> } = {
  ping: obj<PingResult>({ pid: int, project: str, root: str, version: oneOf(1) }),
  run: runResult,
  'run-attached': obj<AttachedExit>({ exitCode: nullable(int), status: containerStatus, removed: bool }),
  start: runResult,
  stop: containerStatus,
  kill: containerStatus,
  pause: containerStatus,
  unpause: containerStatus,
  remove: obj({ removed: str }),
  'remove-many': obj({ results: list(obj<RemoveOutcome>({ id: str }, { error: wireError })) }),
  inspect: containerStatus,
  list: list(containerStatus),
  'wait-for': containerStatus,
  logs: entries,
  events: entries,
  shutdown: obj({ exiting: oneOf(true) }),
};

const logEntry = obj<LogEntry>({ log: str, stream: oneOf('stdout', 'stderr'), time: str });
const event = obj<SupervisorEvent>({
  time: str,
  container: str,
  action: oneOf('start', 'die', 'restarting', 'health_status', 'pause', 'unpause', 'remove'),
  status: containerStatus,
});

const RESPONSES: { [T in Response['type']]: Check<unknown> } = {
  result: obj({}), // its result is checked by the request's type
  error: obj({ error: wireError }),
  log: obj({ entry: logEntry }),
  event: obj({ event }),
  end: obj({}),
  started: obj({ pid: int, startTime: num }),
  output: obj({ stream: oneOf('stdout', 'stderr'), data: str }),
};

const INPUTS: { [T in AttachInput['type']]: Check<unknown> } = {
  stdin: obj({ data: str }),
  'stdin-close': obj({}),
  resize: obj({ rows: int, cols: int }),
  signal: obj({ signal: nonEmpty }),
};

/** Whether a message from a client is an attached run's input rather than a request. */
export const isAttachInput = (raw: unknown): boolean => {
  const t = (raw as { type?: unknown } | null)?.type;
  return typeof t === 'string' && Object.hasOwn(INPUTS, t);
};

/** Checks an attached run's input message; throws a SUPERVISOR TscError naming the bad field. */
export function checkAttachInput(raw: unknown): AttachInput {
  const r = raw as { id?: unknown; type: AttachInput['type'] };
  try {
    obj({ id: int })(raw, '');
    INPUTS[r.type](raw, '');
  } catch (err) {
    if (err instanceof WireShapeError) throw new TscError('SUPERVISOR', `invalid input for an attached run: "${r.type}": ${err.message}`);
    throw err;
  }
  return raw as AttachInput;
}

const isRequestType = (t: unknown): t is RequestType => typeof t === 'string' && Object.hasOwn(REQUESTS, t);

/** Checks a request before it is dispatched; throws a SUPERVISOR TscError naming the bad field. */
export function checkRequest(raw: unknown): Request {
  const bad = (what: string): TscError => new TscError('SUPERVISOR', `invalid supervisor request: ${what}`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('not a JSON object');
  const r = raw as { id?: unknown; type?: unknown };
  if (typeof r.id !== 'number') throw bad('missing numeric "id"');
  if (!isRequestType(r.type)) throw bad(`unknown type ${JSON.stringify(r.type)}`);
  try {
    REQUESTS[r.type](raw, '');
  } catch (err) {
    if (err instanceof WireShapeError) throw bad(`"${r.type}": ${err.message}`);
    throw err;
  }
  return raw as Request;
}

/**
 * Checks a message from the supervisor, the answer to a request of type `requestType`;
 * throws a SUPERVISOR TscError naming the bad field.
 */
export function checkResponse(raw: unknown, requestType: RequestType): Response {
  try {
    const env = obj<{ id: number; type: Response['type'] }>({
      id: int,
      type: oneOf('result', 'error', 'log', 'event', 'end', 'started', 'output'),
    })(raw, '');
    RESPONSES[env.type](raw, '');
    if (env.type === 'result') RESULTS[requestType]((raw as { result?: unknown }).result, 'result');
    return raw as Response;
  } catch (err) {
    if (!(err instanceof WireShapeError)) throw err;
    throw new TscError('SUPERVISOR', `the supervisor sent a malformed answer to "${requestType}": ${err.message}`, {
      hint: "the supervisor may be of another tscompose version: stop the project's containers and run the command again",
    });
  }
}
