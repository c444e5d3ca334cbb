/**
 * What every project command does around its work: load the project, open its runtime, take
 * the project lock for commands that change something, and always let go of both.
 */
import type { Command } from 'commander';
import { ProjectRuntime } from '../apply/runtime.js';
import { TscError } from '../common/errors.js';
import { stateRoot } from '../common/paths.js';
import { LIMITS, type Project } from '../compose/index.js';
import { existsSync } from 'node:fs';
import { acquireProjectLock, describeHolder, stateFile } from '../state/index.js';
import { fromRecord, loadCliProject, projectFromRecord } from './project.js';

export interface SessionOptions {
  /** take the project lock (commands that change state) */
  lock: boolean;
  /** services named on the command line (enables their profiles) */
  services?: string[];
  /** fail at once when another tscompose holds the lock */
  noWait?: boolean;
  /**
   * the verb works on a project by name alone, from its record, when no compose file is found
   * (`-p NAME down`, as Compose: see loadCliProject)
   */
  byName?: boolean;
}

export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new TscError('NOT_ROOT', 'tscompose runs containers with its own engine and needs root (namespaces, mounts, cgroups, network links)', {
      hint: 'run it with sudo',
    });
  }
}

export async function withProject<T>(cmd: Command, opts: SessionOptions, fn: (rt: ProjectRuntime, project: Project) => Promise<T>): Promise<T> {
  let project = await loadCliProject(cmd, { services: opts.services, byName: opts.byName });
  const root = stateRoot();
  requireRoot();
  const name = project.name;
  const lock = opts.lock
    ? await acquireProjectLock(root, name, {
        wait: !opts.noWait,
        onWait: (holder) => process.stderr.write(`waiting for another tscompose on project ${name} to finish (${describeHolder(holder)})\n`),
      })
    : undefined;
  try {
    // a project known by its record is read again once the lock is held: what it had then may have changed
    if (lock && fromRecord(project)) project = await projectFromRecord(root, name);
    const rt = await ProjectRuntime.open(root, project);
    try {
      return await fn(rt, project);
    } finally {
      rt.close();
    }
  } finally {
    // a project without a record (after down, or never up) keeps no lock file: it is deleted
    // while still held, and a process waiting on it re-opens the path (src/sys/files.ts)
    lock?.release({ remove: !existsSync(stateFile(root, name)) });
  }
}

/** Parses `--scale svc=n` values. */
export function parseScale(values: string[] | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values ?? []) {
    const m = /^([^=]+)=(\d+)$/.exec(v);
    if (!m) throw new TscError('USAGE', `invalid --scale value "${v}"`, { hint: 'use --scale SERVICE=NUMBER' });
    const n = Number(m[2]);
    if (n > LIMITS.replicas) {
      throw new TscError('USAGE', `invalid --scale value "${v}": tscompose runs at most ${LIMITS.replicas} replicas of one service`, {
        hint: `use a number from 0 to ${LIMITS.replicas}`,
      });
    }
    out[m[1]!] = n;
  }
  return out;
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Seconds given on the command line (-t) as milliseconds. */
export function secondsToMs(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new TscError('USAGE', `invalid timeout "${v}": expected seconds`);
  return Math.round(n * 1000);
}
