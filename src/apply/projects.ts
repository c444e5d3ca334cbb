/**
 * `ls`: the projects on a state root and the states of their containers, read from the records
 * and status files alone: listing never starts a supervisor or changes anything.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { processAlive } from '../engine/index.js';
import { listProjects } from '../state/index.js';
import { bundleFiles, projectPaths } from '../supervisor/paths.js';
import type { ContainerStatus } from '../supervisor/types.js';

export interface ProjectSummary {
  name: string;
  /** container state → count, e.g. { running: 2, exited: 1 } */
  states: Record<string, number>;
  configFiles: string[];
  workingDir?: string;
  /** why the record could not be read, when it could not */
  error?: string;
}

/** A container's state as its status file says, with a process that is gone counted as exited. */
function stateOf(bundleDir: string): string {
  let st: ContainerStatus;
  try {
    st = JSON.parse(readFileSync(bundleFiles(bundleDir).status, 'utf8')) as ContainerStatus;
  } catch {
    return 'created';
  }
  if (st.state === 'running' || st.state === 'restarting' || st.state === 'paused') {
    if (st.state !== 'restarting' && !(st.pid && processAlive(st.pid, st.startTime ?? undefined))) return 'exited';
  }
  return st.state;
}

export async function listProjectSummaries(root: string): Promise<ProjectSummary[]> {
  const out: ProjectSummary[] = [];
  for (const p of await listProjects(root)) {
    if (!p.state) {
      out.push({ name: p.project, states: {}, configFiles: [], error: p.error?.message ?? 'unreadable record' });
      continue;
    }
    const states: Record<string, number> = {};
    for (const c of Object.values(p.state.containers)) {
      const s = stateOf(c.bundleDir ?? path.join(projectPaths(root, p.project).containersDir, c.name));
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
