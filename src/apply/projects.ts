/**
 * `ls`: the projects on a state root and the states of their containers, read from the records
 * and status files: listing never starts a supervisor or changes anything. It only pings a
 * project's supervisor, since a `restarting` status is still true while one is running.
 */
import { listProjects } from '../state/index.js';
import { layout } from '../common/layout.js';
import { connectSupervisor } from '../supervisor/index.js';
import { statusFromFile } from './status-file.js';

export interface ProjectSummary {
  name: string;
  /** container state → count, e.g. { running: 2, exited: 1 } */
  states: Record<string, number>;
  configFiles: string[];
  workingDir?: string;
  /** why the record could not be read, when it could not */
  error?: string;
}

export async function listProjectSummaries(root: string): Promise<ProjectSummary[]> {
  const out: ProjectSummary[] = [];
  for (const p of await listProjects(root)) {
    if (!p.state) {
      out.push({ name: p.project, states: {}, configFiles: [], error: p.error?.message ?? 'unreadable record' });
      continue;
    }
    const states: Record<string, number> = {};
    const containers = Object.values(p.state.containers);
    // a pending restart is over only when no supervisor is left to make it
    const unsupervised = containers.length > 0 && (await connectSupervisor(root, p.project)) === null;
    for (const c of containers) {
      const s = statusFromFile(c.bundleDir ?? layout.container(root, p.project, c.name), { unsupervised })?.state ?? 'created';
      states[s] = (states[s] ?? 0) + 1;
    }
    out.push({ name: p.project, states, configFiles: p.state.configFiles ?? [], workingDir: p.state.workingDir });
  }
  return out;
}

/** Compose's STATUS column: each state with its count, sorted by state, e.g. "exited(1), running(2)". */
export function combinedStatus(states: Record<string, number>): string {
  return Object.keys(states)
    .sort()
    .map((s) => `${s}(${states[s]})`)
    .join(', ');
}
