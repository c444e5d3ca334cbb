/**
 * Read-only access to what supervisors recorded, for commands that must not start a supervisor
 * (ps, logs without -f): the status and logs of the project's containers straight from disk.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TscError } from '../common/errors.js';
import { readLogs, sinceToNs } from './logs.js';
import { bundleFiles, projectPaths } from './paths.js';
import { isSameProcess } from './proc.js';
import { LOG_DEFAULTS, type ContainerStatus, type LogEntry, type RunConfig } from './types.js';

/** Bundle directory of every container the project's supervisors know, by container id. */
export function recordedContainers(root: string, project: string): Record<string, string> {
  try {
    const idx = JSON.parse(readFileSync(path.join(projectPaths(root, project).dir, 'supervised.json'), 'utf8')) as {
      containers?: Record<string, string>;
    };
    return idx.containers ?? {};
  } catch {
    return {};
  }
}

/**
 * The recorded status of each container. A record that says running while its process is gone
 * (no supervisor saw the exit) is shown as exited with an unknown exit code.
 */
export function readRecordedStatuses(root: string, project: string): ContainerStatus[] {
  const out: ContainerStatus[] = [];
  for (const [id, bundleDir] of Object.entries(recordedContainers(root, project))) {
    let st: ContainerStatus;
    try {
      st = JSON.parse(readFileSync(bundleFiles(bundleDir).status, 'utf8')) as ContainerStatus;
    } catch {
      continue;
    }
    if ((st.state === 'running' || st.state === 'paused') && !(st.pid && st.startTime !== null && isSameProcess(st.pid, st.startTime))) {
      st = {
        ...st,
        state: 'exited',
        pid: null,
        startTime: null,
        exitCode: null,
        exitReason: 'the container exited while no supervisor was watching it: its exit code is unknown',
      };
    }
    out.push({ ...st, id });
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/** Stored log entries of one container (no follow: that needs its supervisor). */
export function readRecordedLogs(
  root: string,
  project: string,
  container: string,
  opts: { tail?: number; since?: string | number } = {},
): LogEntry[] {
  const bundleDir = recordedContainers(root, project)[container];
  if (!bundleDir) {
    throw new TscError('NO_SUCH_SERVICE', `no such container ${container} in project ${project}`);
  }
  const files = bundleFiles(bundleDir);
  let maxFile = LOG_DEFAULTS.maxFile;
  try {
    maxFile = (JSON.parse(readFileSync(files.run, 'utf8')) as RunConfig).log?.maxFile ?? maxFile;
  } catch {
    /* defaults */
  }
  return readLogs(files.log, maxFile, { tail: opts.tail, sinceNs: sinceToNs(opts.since) });
}
