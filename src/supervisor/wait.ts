/**
 * When a `wait-for` request (depends_on conditions, `up --wait`) is decided. It fails as soon
 * as the outcome is known instead of running into its timeout:
 * - the container exited (or failed to start) and its restart policy will not start it again;
 * - a `healthy` wait sees the health status `unhealthy`;
 * - the container restarted MAX_RESTARTS_WHILE_WAITING times since the wait began (a crash loop:
 *   `restart: always` would otherwise hide the outcome until the timeout).
 */
import type { WaitCondition } from './protocol.js';
import type { ContainerStatus, RunConfig } from './types.js';
import { probeArgs } from './health.js';

/** Restarts seen during one wait after which the wait fails (Compose has no such count: it fails on the first exit). */
export const MAX_RESTARTS_WHILE_WAITING = 3;

export type Verdict = 'met' | 'pending' | { failed: string; hint?: string };

export interface WaitSubject {
  status: ContainerStatus;
  config: Pick<RunConfig, 'healthcheck' | 'restart'>;
}

/** Whether the supervisor's restart policy will start this exited container again (see afterExit). */
export function willRestart(m: WaitSubject): boolean {
  const s = m.status;
  if (s.stoppedByUser || s.state === 'running' || s.state === 'paused') return false;
  const p = m.config.restart;
  if (p.name === 'always' || p.name === 'unless-stopped') return true;
  if (p.name !== 'on-failure' || s.exitCode === 0 || s.exitCode === null) return false;
  return p.maxRetries === undefined || p.maxRetries <= 0 || s.restartCount < p.maxRetries;
}

/**
 * `baseRestarts`: the container's restart count when the wait began; `since`: when it began
 * (an exit before it does not satisfy `exited` for a container that restarts); `lastExit`: the
 * last exit code the waiter saw (a restarted container's status no longer has it).
 */
export function judgeWait(m: WaitSubject, condition: WaitCondition, baseRestarts: number, since: number, lastExit: number | null = null): Verdict {
  const s = m.status;
  const id = s.id;
  // an exit the restart policy will undo is not an outcome yet (the status says `exited` for a
  // moment before it says `restarting`)
  const over = (s.state === 'exited' || s.state === 'dead') && !willRestart(m);
  const exitText = (): string =>
    s.state === 'dead' && s.error ? `failed to start: ${s.error.message}` : `exited with code ${s.exitCode ?? 'unknown'}${s.oomKilled ? ' (OOM killed)' : ''}`;
  const restarts = s.restartCount - baseRestarts;
  const looping =
    restarts >= MAX_RESTARTS_WHILE_WAITING
      ? {
          failed: `container ${id} is restarting in a loop (restarted ${restarts} times while waiting, last exit code ${s.exitCode ?? lastExit ?? 'unknown'})`,
          hint: `tscompose gives up on a dependency after ${MAX_RESTARTS_WHILE_WAITING} restarts; see \`tscompose logs\``,
        }
      : undefined;
  const exitedSince = s.finishedAt !== null && Date.parse(s.finishedAt) >= since;
  switch (condition) {
    case 'running':
      if (s.state === 'running') return 'met';
      if (over) return { failed: `container ${id} ${exitText()} instead of running` };
      return looping ?? 'pending';
    case 'exited':
      if (over) return 'met';
      // restart: always after a successful run: it completed, whatever comes next
      if ((s.state === 'restarting' || s.state === 'exited') && s.exitCode === 0 && exitedSince) return 'met';
      return looping ?? 'pending';
    case 'healthy': {
      if (!m.config.healthcheck || !probeArgs(m.config.healthcheck.test)) {
        return {
          failed: `container ${id} has no healthcheck, so it can never become healthy`,
          hint: 'add a healthcheck to the service or wait for service_started instead',
        };
      }
      if (s.state === 'running' && s.health?.status === 'healthy') return 'met';
      const last = s.health?.log.at(-1);
      const hint = last ? `last healthcheck (exit ${last.exitCode}): ${last.output.trim() || '(no output)'}` : undefined;
      if (s.health?.status === 'unhealthy' && (s.state === 'running' || s.state === 'paused')) return { failed: `container ${id} is unhealthy`, hint };
      if (over) return { failed: `container ${id} ${exitText()} before becoming healthy`, hint };
      return looping ? { ...looping, hint: hint ?? looping.hint } : 'pending';
    }
  }
}
