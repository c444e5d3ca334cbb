/**
 * Read-only access to what supervisors recorded, for commands that must not start a supervisor
 * (ps, logs without -f): the status and logs of the project's containers straight from disk.
 */
import { readFileSync } from 'node:fs';
import { TscError } from '../common/errors.js';
import { settleRecordedStatus } from './liveness.js';
import { readLogs, sinceToNs } from './logs.js';
import { bundleFiles, projectPaths } from './paths.js';
import { LOG_DEFAULTS, type ContainerStatus, type LogEntry, type RunConfig } from './types.js';

/** Bundle directory of every container the project's supervisors know, by container id. */
export function recordedContainers(root: string, project: string): Record<string, string> {
  return readIndexFile(projectPaths(root, project).index);
}

/** supervised.json's containers (id → bundle dir); empty when there is none or it is unreadable. */
export function readIndexFile(file: string): Record<string, string> {
  try {
    const idx = JSON.parse(readFileSync(file, 'utf8')) as { containers?: Record<string, string> };
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
    st = settleRecordedStatus(st);
    out.push({ ...st, id });
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

/** Stored log entries of one container (no follow: that needs its supervisor). */
export function readRecordedLogs(root: string, project: string, container: string, opts: { tail?: number; since?: string | number } = {}): LogEntry[] {
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
