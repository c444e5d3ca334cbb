/** Requests that only watch containers: wait-for a condition, and logs (stored, then followed). */
import { TscError } from '../common/errors.js';
import { openBacklog } from './log-backlog.js';
import { sinceToNs } from './logs.js';
import type { SupervisorCore } from './core.js';
import type { Managed } from './managed.js';
import type { WaitCondition } from './protocol.js';
import type { ContainerStatus } from './types.js';
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
  /** json-file lines as the log has them; returns how many lines */
  lines(jsonLines: string): number;
  /** undefined while the connection takes more; else settles once its buffer has drained */
  drained(): Promise<void> | undefined;
  /** bytes the connection has handed to the kernel so far (the client's progress) */
  sent(): number;
}

/**
 * How long a logs request's client may read nothing while its connection is full: meanwhile the
 * container it follows is not read (its output waits in the pipe, then the container waits), so
 * a client that stopped reading cannot hold a container for longer. A slow client is waited for.
 */
export const FOLLOWER_STALL_MS = 10_000;

/**
 * Sends the stored log (openBacklog: in pieces, so other requests are answered meanwhile),
 * then (with follow) new lines as they are written. Resolves with the number of lines sent
 * when the stream ends: at once without follow, else when `signal` aborts, the container is
 * removed, or (untilExit) the container has exited for good. While the stored log is being sent,
 * and whenever the connection is full, the follower holds the container's output readers (every
 * line arrives, in order; the container slows down to the client's pace), at most
 * FOLLOWER_STALL_MS at a time.
 */
export async function streamLogs(core: SupervisorCore, m: Managed, q: LogsQuery, out: LogSink, signal?: AbortSignal): Promise<number> {
  const id = m.config.spec.id;
  const finished = (): boolean => q.untilExit === true && (m.status.state === 'exited' || m.status.state === 'dead');
  const follow = q.follow === true && !finished() && !m.removed;
  const backlog = openBacklog(m.files.log, m.logOpts.maxFile, { tail: q.tail, sinceNs: sinceToNs(q.since) });
  let count = 0;
  /** settles once the connection drained; rejects when it took nothing for FOLLOWER_STALL_MS */
  const drained = (): Promise<void> | undefined => {
    const d = out.drained();
    if (!d) return;
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<void>((_, reject) => {
      let sent = out.sent();
      const check = (): void => {
        // a slow client that still reads is waited for: only one that took nothing is cut off
        if (out.sent() !== sent) {
          sent = out.sent();
          timer = setTimeout(check, FOLLOWER_STALL_MS);
          return;
        }
        reject(
          new TscError('SUPERVISOR', `logs of ${id}: the client read nothing for ${FOLLOWER_STALL_MS / 1000} s while the container waited`, {
            hint: 'read the output of logs --follow as it comes, or use logs without --follow',
          }),
        );
      };
      timer = setTimeout(check, FOLLOWER_STALL_MS);
    });
    return Promise.race([d, stalled]).finally(() => clearTimeout(timer));
  };

  let stop = (_err?: unknown): void => {};
  const ended = new Promise<number>((resolve, reject) => {
    stop = (err) => {
      m.followers.delete(follower);
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(count);
    };
  });
  ended.catch(() => {}); // awaited below; meanwhile a rejection is not unhandled
  const onAbort = (): void => stop();
  let unsubscribe = (): void => {};
  // lines written while the stored log is being sent: they follow it
  let queued: string[] | null = [];
  let caughtUp = (): void => {};
  const backlogSent = new Promise<void>((r) => (caughtUp = r));
  const follower = (lines: string | null): Promise<void> | undefined => {
    if (lines === null) {
      stop();
      return;
    }
    if (queued) {
      queued.push(lines);
      return backlogSent;
    }
    count += out.lines(lines);
    return drained()?.catch(stop);
  };
  if (follow) {
    // in the tick that opened the files: nothing written from now on is missed
    m.followers.add(follower);
    unsubscribe = core.bus.onChange(() => {
      if (finished()) stop();
    });
    signal?.addEventListener('abort', onAbort);
  }
  try {
    for (const piece of backlog.pieces) {
      if (signal?.aborted) break;
      count += out.lines(piece);
      await (drained() ?? new Promise((r) => setImmediate(r)));
    }
  } catch (err) {
    if (!follow) throw err;
    stop(err);
  } finally {
    backlog.close();
  }
  if (!follow) return count;
  for (const lines of queued) count += out.lines(lines);
  queued = null;
  caughtUp();
  if (signal?.aborted) stop();
  return ended;
}
