/** Requests that only watch containers: wait-for a condition, and logs (stored, then followed). */
import { TscError } from '../common/errors.js';
import { followFrom, openBacklog, type LogReader } from './log-backlog.js';
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
}

/**
 * Sends the stored log (openBacklog: in pieces, so other requests are answered meanwhile),
 * then (with follow) new lines as they are written. Resolves with the number of lines sent
 * when the stream ends: at once without follow, else when `signal` aborts, the container is
 * removed, or (untilExit) the container has exited for good and its log is sent to the end.
 * A follower never holds the container: the pump hands it the lines it writes only while its
 * connection takes them. Once the connection is full, it reads the log files instead from where
 * it was (as `docker logs -f` does), piece by piece as the connection drains, following them
 * through rotation, and takes live lines again once it has caught up. Lines rotated away before
 * it read them are lost; memory stays bounded (an open file and the connection's buffer).
 */
export async function streamLogs(core: SupervisorCore, m: Managed, q: LogsQuery, out: LogSink, signal?: AbortSignal): Promise<number> {
  const finished = (): boolean => q.untilExit === true && (m.status.state === 'exited' || m.status.state === 'dead');
  const follow = q.follow === true && !finished() && !m.removed;
  const sinceNs = sinceToNs(q.since);
  let count = 0;
  let stopped = false;
  /** the container has exited for good: end once the log is read to its end */
  let ending = false;
  /** the files being read while behind: closed at once when the stream ends */
  let reading: LogReader | null = null;
  let stop = (): void => {};
  const ended = new Promise<number>((resolve) => {
    stop = () => {
      stopped = true;
      m.followers.delete(follower);
      reading?.close();
      unsubscribe();
      signal?.removeEventListener('abort', stop);
      resolve(count);
    };
  });
  let unsubscribe = (): void => {};
  const followOn = {
    file: m.files.log,
    maxFile: m.logOpts.maxFile,
    // in the synchronous block of the read that found the live file's end: no line is missed
    caughtUp: () => {
      if (!stopped && !ending) m.followers.add(follower);
    },
  };
  /** Sends a reader's pieces as the connection takes them; true when it read to the end. */
  const send = async (reader: LogReader): Promise<boolean> => {
    try {
      for (const piece of reader.pieces) {
        count += out.lines(piece);
        await (out.drained() ?? new Promise((r) => setImmediate(r)));
        if (stopped || signal?.aborted) return false;
      }
      return true;
    } finally {
      reader.close();
    }
  };
  /** Reads on from the files (the connection is full), then live again; ends when ending. */
  const readOn = async (reader: LogReader, full: Promise<void>): Promise<void> => {
    reading = reader;
    try {
      await full;
      if (stopped || !(await send(reader))) return;
      if (ending) stop();
    } catch (err) {
      core.log(`logs of ${m.config.spec.id}: reading the log files failed: ${(err as Error).message}`);
      stop();
    } finally {
      reader.close();
      if (reading === reader) reading = null;
    }
  };
  const follower = (lines: string | null): void => {
    if (lines === null) return stop();
    count += out.lines(lines);
    const full = out.drained();
    if (!full) return;
    // from here on it reads the files: the live one opened now, at its present end
    m.followers.delete(follower);
    void readOn(followFrom(followOn, sinceNs), full);
  };
  const backlog = openBacklog(m.files.log, m.logOpts.maxFile, { tail: q.tail, sinceNs }, follow ? followOn : undefined);
  if (!follow) {
    await send(backlog);
    return count;
  }
  unsubscribe = core.bus.onChange(() => {
    if (m.removed) stop();
    else if (finished()) {
      ending = true;
      // a follower taking live lines has everything the container wrote
      if (m.followers.has(follower)) stop();
    }
  });
  signal?.addEventListener('abort', stop);
  if (signal?.aborted) stop();
  void readOn(backlog, Promise.resolve());
  return ended;
}
