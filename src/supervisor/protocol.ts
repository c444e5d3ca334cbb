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
  | { type: 'stop'; id: number; container: string; signal?: string; timeoutMs?: number }
  | { type: 'kill'; id: number; container: string; signal?: string }
  | { type: 'remove'; id: number; container: string; force?: boolean }
  | { type: 'inspect'; id: number; container: string }
  | { type: 'list'; id: number }
  | { type: 'wait-for'; id: number; container: string; condition: WaitCondition; timeoutMs?: number }
  | {
      type: 'logs';
      id: number;
      container: string;
      /** last N entries only */
      tail?: number;
      /** RFC 3339 time or epoch milliseconds: entries at or after it */
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
  stop: ContainerStatus;
  kill: ContainerStatus;
  remove: { removed: string };
  inspect: ContainerStatus;
  list: ContainerStatus[];
  'wait-for': ContainerStatus;
  logs: { entries: number };
  events: { entries: number };
  shutdown: { exiting: true };
}

export interface WireError { code: ErrorCode; message: string; hint?: string }

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
