/**
 * Reading and writing `<root>/projects/<project>/state.json`. A write goes to a temporary file
 * in the same folder, is fsynced, renamed over the record and the folder is fsynced, so a crash
 * leaves either the old or the new record, never a torn one. Changing a record is only safe
 * while holding the project lock (see lock.ts).
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { atomicTempOf, writeFileAtomic } from '../sys/files.js';
import { TscError } from '../common/errors.js';
import { layout } from '../common/layout.js';
import { projectDir, stateFile, validateProjectName } from './paths.js';
import { projectStateSchema, STATE_VERSION, type ProjectState } from './schema.js';
import { isPidAlive } from '../common/process.js';

/** A record for a project that has nothing yet. */
export function emptyProjectState(project: string, now: Date = new Date()): ProjectState {
  validateProjectName(project);
  const t = now.toISOString();
  return { version: STATE_VERSION, project, created: t, updated: t, containers: {}, networks: {}, volumes: {} };
}

const CORRUPT_HINT =
  'the file was changed outside tscompose or written by an incompatible version; move it aside to start over (containers it recorded may still be running: stop them first)';

/** Validates parsed JSON as a project record; throws STATE_CORRUPT naming the file and the first problems. */
function parseProjectState(text: string, file: string, project?: string): ProjectState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new TscError('STATE_CORRUPT', `state file ${file} is not valid JSON: ${(e as Error).message}`, { cause: e, hint: CORRUPT_HINT });
  }
  if (raw && typeof raw === 'object' && 'version' in raw && typeof raw.version === 'number' && raw.version > STATE_VERSION) {
    throw new TscError('STATE_CORRUPT', `state file ${file} has schema version ${raw.version}, newer than this tscompose understands (${STATE_VERSION})`, {
      hint: 'use the tscompose version that wrote it, or upgrade',
    });
  }
  const r = projectStateSchema.safeParse(raw);
  if (!r.success) {
    const problems = r.error.issues.slice(0, 3).map((i) => `${i.path.length ? i.path.join('.') : '(top level)'}: ${i.message}`);
    const more = r.error.issues.length > 3 ? ` (and ${r.error.issues.length - 3} more)` : '';
    throw new TscError('STATE_CORRUPT', `state file ${file} does not match the state schema: ${problems.join('; ')}${more}`, { hint: CORRUPT_HINT });
  }
  if (project !== undefined && r.data.project !== project) {
    throw new TscError('STATE_CORRUPT', `state file ${file} belongs to project "${r.data.project}", not "${project}"`, { hint: CORRUPT_HINT });
  }
  return r.data;
}

/** The project's record, or undefined when the project has none. */
export async function readProjectState(root: string, project: string): Promise<ProjectState | undefined> {
  const file = stateFile(root, project);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TscError('STATE_CORRUPT', `cannot read state file ${file}: ${(e as Error).message}`, { cause: e });
  }
  return parseProjectState(text, file, project);
}

/** The record, or a fresh empty one. */
export async function loadProjectState(root: string, project: string): Promise<ProjectState> {
  return (await readProjectState(root, project)) ?? emptyProjectState(project);
}

function diskError(e: unknown, what: string): TscError {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'DISK_FULL') {
    return new TscError('DISK_FULL', `${what}: no space left on the device`, { cause: e, hint: 'free some space; the previous record is unchanged' });
  }
  return new TscError('STATE_CORRUPT', `${what}: ${(e as Error).message}`, { cause: e, hint: 'the previous record is unchanged' });
}

/** Temp files left by a writer that died between creating and renaming them. */
async function removeStaleTemps(dir: string): Promise<void> {
  for (const name of await fsp.readdir(dir)) {
    const pid = atomicTempOf(name, 'state.json');
    if (pid !== undefined && pid !== process.pid && !isPidAlive(pid)) await fsp.rm(path.join(dir, name), { force: true });
  }
}

/**
 * Writes the record atomically (src/sys/files.ts: temp file + fsync + rename + fsync of the
 * folder). Validates it first, so an invalid record is never written. Sets `updated`.
 */
export async function writeProjectState(root: string, state: ProjectState, now: Date = new Date()): Promise<void> {
  const dir = projectDir(root, state.project);
  const file = stateFile(root, state.project);
  const next = { ...state, updated: now.toISOString() };
  const r = projectStateSchema.safeParse(next);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new TscError('INTERNAL', `refusing to write an invalid state record for project "${state.project}": ${i.path.join('.')}: ${i.message}`);
  }
  try {
    await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(file, JSON.stringify(next, null, 2) + '\n', { mode: 0o600 });
    await removeStaleTemps(dir);
  } catch (e) {
    throw diskError(e, `cannot write state file ${file}`);
  }
  state.updated = next.updated;
}

/** Removes the record (after `down` removed everything it named). Leaves the lock file in place. */
export async function deleteProjectState(root: string, project: string): Promise<void> {
  await fsp.rm(stateFile(root, project), { force: true });
}

export interface ProjectListing {
  project: string;
  /** the record, when readable */
  state?: ProjectState;
  /** why the record could not be read (STATE_CORRUPT) */
  error?: TscError;
}

/**
 * Every project with a state record under `root`, sorted by name. Unreadable records are listed
 * with their error instead of failing the whole listing (one bad project must not block `ls`
 * or an address lookup for another).
 */
export async function listProjects(root: string): Promise<ProjectListing[]> {
  let names: string[];
  try {
    names = await fsp.readdir(layout.projects(root));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new TscError('STATE_CORRUPT', `cannot list projects in ${layout.projects(root)}: ${(e as Error).message}`, { cause: e });
  }
  const out: ProjectListing[] = [];
  for (const name of names.sort()) {
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(name)) continue;
    try {
      const state = await readProjectState(root, name);
      if (state) out.push({ project: name, state });
    } catch (e) {
      out.push({ project: name, error: e instanceof TscError ? e : new TscError('STATE_CORRUPT', String(e), { cause: e }) });
    }
  }
  return out;
}
