/**
 * Record persistence: the project record's serialized writes, the file of a container's
 * bundle that apply writes (run.json, the run request it hands the supervisor; status.json is
 * the supervisor's alone), and forgetting a project whose containers are all gone.
 */
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { TscError } from '../common/errors.js';
import { layout, PROJECT_RUNTIME_ENTRIES } from '../common/layout.js';
import { cgroupPathFor, removeCgroupTree } from '../engine/index.js';
import { deleteProjectState, writeProjectState, type ContainerRecord, type ProjectState } from '../state/index.js';
import { bundleFiles } from '../supervisor/paths.js';
import type { RunConfig } from '../supervisor/types.js';
import { writeFileAtomicSync } from '../sys/files.js';
import type { RuntimeContext } from './context.js';

/**
 * Writes a project record; concurrent callers are serialized and each sees its change written.
 * Changes made while a write is queued ride along with it (one fsync for a burst of changes).
 */
export class RecordSaver {
  private saving: Promise<void> = Promise.resolve();
  private queued?: Promise<void>;

  constructor(
    private readonly root: string,
    private readonly current: () => ProjectState,
  ) {}

  save(): Promise<void> {
    if (this.queued) return this.queued;
    const next = this.saving.then(() => {
      this.queued = undefined;
      return writeProjectState(this.root, this.current());
    });
    this.queued = next;
    this.saving = next.catch(() => undefined);
    return next;
  }
}

/** The bundle folder of a container of the project. */
export function bundleDirOf(ctx: Pick<RuntimeContext, 'root' | 'name'>, container: string): string {
  return layout.container(ctx.root, ctx.name, container);
}

/** The bundle folder a record names (older records may not name one). */
export function recordBundleDir(ctx: Pick<RuntimeContext, 'root' | 'name'>, record: ContainerRecord): string {
  return record.bundleDir ?? bundleDirOf(ctx, record.name);
}

/** Writes the run configuration into a new container's bundle. */
export function writeRunConfig(bundleDir: string, run: RunConfig): void {
  // atomic (never a torn run.json); not fsynced, as before: the record is the durable part
  writeFileAtomicSync(bundleFiles(bundleDir).run, JSON.stringify(run), { mode: 0o600, durable: false });
}

/** The run configuration written when the container was created. */
export function readRunConfig(ctx: Pick<RuntimeContext, 'root' | 'name'>, record: ContainerRecord): RunConfig {
  const file = bundleFiles(recordBundleDir(ctx, record)).run;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as RunConfig;
  } catch {
    throw new TscError('STATE_CORRUPT', `container ${record.name} has no run configuration (${file})`, {
      hint: 'recreate it with `tscompose up --force-recreate`',
    });
  }
}

/**
 * Forgets a project that has no container left: its record, its supervisor's files and its
 * cgroup parents. Volumes stay. The lock file goes when the command releases it (session.ts:
 * deleted while held; a waiter re-checks the inode it locked, see src/state/lock.ts).
 */
export async function forgetProject(ctx: Pick<RuntimeContext, 'root' | 'name'>): Promise<void> {
  const dir = layout.project(ctx.root, ctx.name);
  await deleteProjectState(ctx.root, ctx.name);
  for (const f of PROJECT_RUNTIME_ENTRIES) rmSync(path.join(dir, f), { recursive: true, force: true });
  // whatever a crash left in the project's cgroup tree (every container is gone by now)
  await removeCgroupTree(cgroupPathFor(ctx.name));
}
