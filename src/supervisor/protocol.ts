/**
 * The supervisor's wire protocol: newline-delimited JSON over the project's unix socket. Every
 * request carries an `id`; every response echoes it. A request gets exactly one `result` or
 * `error` response, except `logs`, which streams `log` messages and ends with `end` (or
 * `error`), and `events`, which streams `event` messages until the client hangs up. Errors cross as {code, message, hint} and become TscError again in the
 * client.
 */
import { TscError, type ErrorCode } from '../common/errors.js';
import type { ContainerStatus, LogEntry, RunConfig, SupervisorEvent } from './types.js';

export type WaitCondition = 'running' | 'healthy' | 'exited';

export type Request =
  | { type: 'ping'; id: number }
  | { type: 'run'; id: number; config: RunConfig }
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

export interface PingResult { pid: number; project: string; root: string; version: 1 }
export interface RunResult { pid: number; startTime: number; status: ContainerStatus }

/** Result payload by request type. */
export interface ResultMap {
  ping: PingResult;
  run: RunResult;
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

export interface WireError { code: ErrorCode; message: string; hint?: string }

/** One container's outcome in a remove-many: removed, or the error that kept it. */
export interface RemoveOutcome { id: string; error?: WireError }

export type Response =
  | { type: 'result'; id: number; result: unknown }
  | { type: 'error'; id: number; error: WireError }
  | { type: 'log'; id: number; entry: LogEntry }
  | { type: 'event'; id: number; event: SupervisorEvent }
  | { type: 'end'; id: number };

export function toWireError(err: unknown): WireError {
  if (err instanceof TscError) return { code: err.code, message: err.message, hint: err.hint };
  const e = err instanceof Error ? err : new Error(String(err));
  return { code: 'INTERNAL', message: `supervisor internal error: ${e.message}` };
}

export function fromWireError(w: WireError): TscError {
  return new TscError(w.code, w.message, { hint: w.hint });
}

/** Splits a byte stream into JSON messages; a malformed line is reported, not thrown. */
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
  }
}

export function encode(msg: Request | Response): string {
  return JSON.stringify(msg) + '\n';
}

const NEEDS_CONTAINER = new Set(['pause', 'unpause', 'start', 'stop', 'kill', 'remove', 'inspect', 'wait-for', 'logs']);
const TYPES = new Set(['ping', 'run', 'start', 'pause', 'unpause', 'stop', 'kill', 'remove', 'remove-many', 'inspect', 'list', 'wait-for', 'logs', 'events', 'shutdown']);

/** Checks the shape a request must have before it is dispatched; throws a SUPERVISOR TscError. */
export function checkRequest(raw: unknown): Request {
  const r = raw as Record<string, unknown> | null;
  const bad = (what: string): TscError => new TscError('SUPERVISOR', `invalid supervisor request: ${what}`);
  if (!r || typeof r !== 'object') throw bad('not a JSON object');
  if (typeof r.id !== 'number') throw bad('missing numeric "id"');
  if (typeof r.type !== 'string' || !TYPES.has(r.type)) throw bad(`unknown type ${JSON.stringify(r.type)}`);
  if (NEEDS_CONTAINER.has(r.type) && (typeof r.container !== 'string' || !r.container)) throw bad(`"${r.type}" needs a container name`);
  if (r.type === 'run') {
    const c = r.config as { spec?: { id?: unknown; bundleDir?: unknown; process?: { args?: unknown } }; restart?: { name?: unknown } } | undefined;
    if (!c?.spec || typeof c.spec.id !== 'string' || typeof c.spec.bundleDir !== 'string' || !Array.isArray(c.spec.process?.args)) {
      throw bad('"run" needs config.spec with id, bundleDir and process.args');
    }
    if (!c.restart || !['no', 'always', 'unless-stopped', 'on-failure'].includes(c.restart.name as string)) {
      throw bad('"run" needs config.restart with name no, always, unless-stopped or on-failure');
    }
  }
  if (r.type === 'remove-many' && (!Array.isArray(r.containers) || !r.containers.every((c) => typeof c === 'string' && c))) {
    throw bad('"remove-many" needs "containers", a list of container names');
  }
  if (r.type === 'wait-for' && !['running', 'healthy', 'exited'].includes(r.condition as string)) {
    throw bad(`"wait-for" condition must be running, healthy or exited, got ${JSON.stringify(r.condition)}`);
  }
  return r as unknown as Request;
}
