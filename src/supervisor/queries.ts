/** Requests that only watch containers: wait-for a condition, and logs (stored, then followed). */
import { TscError } from '../common/errors.js';
import { readLogs, sinceToNs } from './logs.js';
import type { SupervisorCore } from './core.js';
import type { Managed } from './managed.js';
import type { WaitCondition } from './protocol.js';
import type { ContainerStatus, LogEntry } from './types.js';
import { judgeWait } from './wait.js';

export interface LogsQuery {
  tail?: number;
  since?: string | number;
  follow?: boolean;
  untilExit?: boolean;
}

/** Resolves when the condition holds; fails as soon as it can no longer hold, or on timeout. */
export function waitFor(core: SupervisorCore, m: Managed, condition: WaitCondition, timeoutMs: number): Promise<ContainerStatus> {
  const id = m.config.spec.id;
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | null = null;
    let unsubscribe = (): void => {};
    const finish = (err: TscError | null, st?: ContainerStatus): void => {
      unsubscribe();
      if (timer) clearTimeout(timer);
      if (err) reject(err);
      else resolve(st!);
    };
    const since = Date.now();
    const baseRestarts = m.status.restartCount;
    let lastExit: number | null = null;
    const check = (): void => {
      const cur = core.containers.get(id);
      if (!cur) return finish(new TscError('UP_CONDITION', `container ${id} was removed while waiting for it to be ${condition}`));
      if (cur.status.exitCode !== null) lastExit = cur.status.exitCode;
      const verdict = judgeWait(cur, condition, baseRestarts, since, lastExit);
      if (verdict === 'met') finish(null, cur.status);
      else if (verdict !== 'pending') finish(new TscError('UP_CONDITION', verdict.failed, { hint: verdict.hint }));
    };
    unsubscribe = core.bus.onChange(check);
    timer = setTimeout(() => {
      const cur = core.containers.get(id);
      const health = cur?.status.health?.log.at(-1);
      finish(
        new TscError(
          'UP_CONDITION',
          `container ${id} did not become ${condition} within ${Math.round(timeoutMs / 1000)} s (state ${cur?.status.state ?? 'removed'}${
            cur?.status.health ? `, health ${cur.status.health.status}` : ''
          })`,
          { hint: health ? `last healthcheck output: ${health.output.trim() || '(none)'}` : undefined },
        ),
      );
    }, timeoutMs);
    timer.unref();
    check();
  });
}

/** Where a logs request's output goes (the request's connection, server.ts). */
export interface LogSink {
  /** one stored entry */
  entry(e: LogEntry): void;
  /** followed output: json-file lines as the log has them; returns how many lines */
  lines(jsonLines: string): number;
  /** undefined while the connection takes more; else settles once its buffer has drained */
  drained(): Promise<void> | undefined;
}

/**
 * How long a follower may leave its connection full before it is cut off: meanwhile the
 * container it follows is not read (its output waits in the pipe, then the container waits),
 * so a client that stopped reading cannot hold a container for longer.
 */
export const FOLLOWER_STALL_MS = 10_000;

/**
 * Sends stored log entries, then (with follow) new ones as they are written. Resolves with the
 * number of entries sent when the stream ends: at once without follow, else when `signal`
 * aborts, the container is removed, or (untilExit) the container has exited for good. A follower
 * whose connection is full holds the container's output readers until it drained (every line
 * arrives, the container slows down to the follower's pace), at most FOLLOWER_STALL_MS.
 */
export async function streamLogs(core: SupervisorCore, m: Managed, q: LogsQuery, out: LogSink, signal?: AbortSignal): Promise<number> {
  const sinceNs = sinceToNs(q.since);
  const backlog = readLogs(m.files.log, m.logOpts.maxFile, { tail: q.tail, sinceNs });
  // Subscribing before sending the backlog is not needed: all of this runs in one tick.
  let count = 0;
  for (const e of backlog) {
    out.entry(e);
    count++;
  }
  if (!q.follow) return count;
  const finished = (): boolean => q.untilExit === true && (m.status.state === 'exited' || m.status.state === 'dead');
  if (finished() || m.removed) return count;
  return new Promise((resolve, reject) => {
    let unsubscribe = (): void => {};
    const done = (err?: TscError): void => {
      m.followers.delete(follower);
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(count);
    };
    const onAbort = (): void => done();
    const follower = (lines: string | null): Promise<void> | undefined => {
      if (lines === null) {
        done();
        return;
      }
      count += out.lines(lines);
      const drained = out.drained();
      if (!drained) return;
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<void>((r) => {
        timer = setTimeout(() => {
          done(
            new TscError('SUPERVISOR', `logs of ${m.config.spec.id}: the client read nothing for ${FOLLOWER_STALL_MS / 1000} s while the container waited`, {
              hint: 'read the output of logs --follow as it comes, or use logs without --follow',
            }),
          );
          r();
        }, FOLLOWER_STALL_MS);
      });
      return Promise.race([drained, stalled]).finally(() => clearTimeout(timer));
    };
    m.followers.add(follower);
    unsubscribe = core.bus.onChange(() => {
      if (finished()) done();
    });
    signal?.addEventListener('abort', onAbort);
    if (signal?.aborted) done();
  });
}
