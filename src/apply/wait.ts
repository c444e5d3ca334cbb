/**
 * Waiting on containers: depends_on conditions before a dependent starts, and `up --wait`.
 * The supervisor decides when a wait is over (src/supervisor/wait.ts: an exit the restart policy
 * will not undo, `unhealthy`, or a restart loop); this module turns a failed wait into the
 * error a user reads: the container, its state, its last exit code and its last log lines.
 */
import { TscError } from '../common/errors.js';
import type { Service } from '../compose/index.js';
import type { ContainerRecord } from '../state/index.js';
import type { SupervisorClient } from '../supervisor/index.js';
import type { ContainerStatus, LogEntry } from '../supervisor/types.js';
import type { ProjectRuntime } from './runtime.js';
import type { Progress, UpOptions } from './options.js';

/** How many log lines a failed wait quotes. */
export const FAILED_WAIT_LOG_LINES = 5;

const CONDITION_WAIT: Record<string, 'running' | 'healthy' | 'exited'> = {
  service_started: 'running',
  service_healthy: 'healthy',
  service_completed_successfully: 'exited',
};

/** "state restarting, last exit code 1; last log lines: | a | b" for a failed wait's message. */
async function evidence(sup: SupervisorClient, name: string, known?: ContainerStatus): Promise<string> {
  const st = known ?? (await sup.inspect(name).catch(() => undefined));
  const lines: string[] = [];
  await sup.logs(name, { tail: FAILED_WAIT_LOG_LINES }, (e: LogEntry) => lines.push(e.log.replace(/\n$/, ''))).catch(() => 0);
  const parts: string[] = [];
  if (st) {
    const health = st.health ? ` (health ${st.health.status})` : '';
    const exit = st.exitCode !== null ? `, last exit code ${st.exitCode}` : st.state !== 'running' && st.finishedAt ? ', exit code unknown' : '';
    const restarts = st.restartCount ? `, restarted ${st.restartCount} times` : '';
    parts.push(`state ${st.state}${health}${exit}${restarts}`);
  }
  parts.push(lines.length ? `last log lines:\n${lines.map((l) => `  | ${l}`).join('\n')}` : 'no log output');
  return parts.join('; ');
}

/** Waits until each dependency of `s` meets its depends_on condition; fails as soon as one cannot. */
export async function waitForDependencies(rt: ProjectRuntime, s: Service, opts: UpOptions, note: (text: string) => void): Promise<void> {
  for (const [dep, spec] of Object.entries(s.depends_on)) {
    if (!rt.project.services[dep]) {
      if (spec.required) throw new TscError('SPEC_REFERENCE', `service "${s.name}" depends on "${dep}", which is not enabled (profiles)`);
      continue;
    }
    const containers = Object.values(rt.state.containers).filter((c) => c.service === dep && !c.oneOff);
    if (containers.length === 0) continue;
    const condition = CONDITION_WAIT[spec.condition] ?? 'running';
    if (condition === 'running') continue; // created and started before us: the plan's edges saw to it
    note(`Waiting for ${dep} to be ${condition === 'exited' ? 'completed' : condition}`);
    const sup = await rt.supervisor();
    for (const c of containers) {
      let st: ContainerStatus;
      try {
        st = await sup.waitFor(c.name, condition, opts.waitTimeoutMs ?? 600_000);
      } catch (err) {
        if (err instanceof TscError) {
          throw new TscError(
            'UP_CONDITION',
            `dependency failed to start: ${err.message} (service "${s.name}" waits for "${dep}" to be ${spec.condition.replace('service_', '')}); ${await evidence(sup, c.name)}`,
            { hint: err.hint, cause: err },
          );
        }
        throw err;
      }
      if (condition === 'exited' && st.exitCode !== 0) {
        throw new TscError(
          'UP_CONDITION',
          `service "${dep}" didn't complete successfully: container ${c.name} exited with code ${st.exitCode ?? 'unknown'}${st.exitReason ? ` (${st.exitReason})` : ''}; service "${s.name}" depends on it; ${await evidence(sup, c.name, st)}`,
        );
      }
    }
  }
}

/** `up --wait`: every container of the services in scope running (healthy when it has a check), or exited 0. */
export async function waitForContainers(rt: ProjectRuntime, containers: ContainerRecord[], timeoutMs: number, progress: Progress): Promise<void> {
  const sup = await rt.supervisor();
  const deadline = Date.now() + timeoutMs;
  await Promise.all(
    containers.map(async (c) => {
      const id = `wait:${c.name}`;
      progress.begin(id, `Container ${c.name}`);
      progress.update(id, 'Waiting');
      let hasHealth = false;
      try {
        hasHealth = !!rt.runConfig(c).healthcheck;
      } catch {
        /* no run config */
      }
      const timeout = Math.max(1, deadline - Date.now());
      try {
        const st = await sup.waitFor(c.name, hasHealth ? 'healthy' : 'running', timeout);
        progress.done(id, hasHealth ? 'Healthy' : 'Running');
        return st;
      } catch (err) {
        const st = await sup.inspect(c.name).catch(() => undefined);
        if (st && st.state === 'exited' && st.exitCode === 0) {
          progress.done(id, 'Exited (0)');
          return st;
        }
        progress.fail(id, err instanceof Error ? err.message : String(err));
        if (err instanceof TscError) throw new TscError(err.code, `${err.message}; ${await evidence(sup, c.name, st)}`, { hint: err.hint, cause: err });
        throw err;
      }
    }),
  );
}
