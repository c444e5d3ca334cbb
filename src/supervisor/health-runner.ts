/**
 * Running a container's healthcheck: a HealthMonitor (health.ts, the schedule and the verdict)
 * whose probes run inside the container, with results recorded through the store.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { HealthMonitor, initialHealth, probeArgs } from './health.js';
import type { SupervisorCore } from './core.js';
import type { Managed } from './managed.js';

/** Starts the container's healthcheck, or returns null when it has none. */
export function startHealth(core: SupervisorCore, m: Managed, pid: number, startedAtMs: number): HealthMonitor | null {
  const cfg = m.config.healthcheck;
  if (!cfg || !probeArgs(cfg.test)) return null;
  if (!m.status.health) core.store.update(m, { health: initialHealth() });
  const monitor = new HealthMonitor(
    cfg,
    startedAtMs,
    (args, timeoutMs) => probe(core, m, pid, args, timeoutMs),
    () => m.status.health ?? initialHealth(),
    (health) => {
      if (m.status.state !== 'running' || m.status.pid !== pid) return;
      const changed = m.status.health?.status !== health.status;
      core.store.update(m, { health });
      if (changed) core.bus.emit(m.status, 'health_status');
      core.bus.notify();
    },
  );
  monitor.start();
  return monitor;
}

/**
 * One healthcheck probe: the command runs inside the container with a file in the bundle as
 * its stdout/stderr (read back afterwards); past `timeoutMs` it is killed and counts as failed.
 */
async function probe(core: SupervisorCore, m: Managed, pid: number, args: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
  const p = m.config.spec.process;
  let fd: number;
  try {
    fd = openSync(m.files.healthProbe, 'w+', 0o600);
  } catch (err) {
    return { exitCode: -1, output: `healthcheck could not run: ${(err as Error).message}` };
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => {
    timer = setTimeout(() => r('timeout'), timeoutMs);
  });
  try {
    const started = core.runtime.exec(m.config.spec, pid, { args, env: p.env, cwd: p.cwd, user: p.user }, { stdout: fd, stderr: fd });
    const handle = await Promise.race([started, timeout]);
    if (handle === 'timeout') {
      started.then(
        (h) => h.kill(),
        () => {},
      );
      return { exitCode: -1, output: `Health check exceeded timeout (${timeoutMs}ms)` };
    }
    const st = await Promise.race([handle.exited, timeout]);
    if (st === 'timeout') {
      handle.kill();
      return { exitCode: -1, output: `Health check exceeded timeout (${timeoutMs}ms)` };
    }
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return { exitCode: st.exitCode, output: buf.subarray(0, n).toString('utf8') };
  } catch (err) {
    return { exitCode: -1, output: `healthcheck could not run: ${(err as Error).message}` };
  } finally {
    clearTimeout(timer);
    closeSync(fd);
  }
}
