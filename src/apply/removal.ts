/**
 * Removing containers: stop (through the supervisor), then what the supervisor does not do or
 * did not know about (a crash mid-create): cgroups, links, netns files, bundles, anonymous
 * volumes, then the record. Removals asked for in the same turn of the event loop go together.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { TscError } from '../common/errors.js';
import { cgroupPathFor, containerCgroup, removeVolume } from '../engine/index.js';
import { deleteNetns, detachContainers } from '../network/index.js';
import type { ContainerRecord } from '../state/index.js';
import { bundleFiles } from '../supervisor/paths.js';
import type { RuntimeContext } from './context.js';
import { networkInfo } from './networks.js';
import { recordBundleDir } from './records.js';
import { hasProcesses, isUnknownContainer } from './supervisor-access.js';

export interface RemoveOptions {
  timeoutMs?: number;
  removeVolumes?: boolean;
}

interface RemovalBatch {
  opts: RemoveOptions;
  items: Array<{ record: ContainerRecord; resolve: () => void; reject: (err: unknown) => void }>;
}

export class ContainerRemover {
  /** removals waiting for the end of this turn of the event loop, by options */
  private readonly removals = new Map<string, RemovalBatch>();

  constructor(private readonly ctx: RuntimeContext) {}

  /**
   * Stops (if needed) and removes a container with its kernel objects; named volumes stay.
   * Removals asked for in the same turn of the event loop (down's parallel actions) go together:
   * one supervisor request stops and removes them all, and the record is written once.
   */
  remove(record: ContainerRecord, opts: RemoveOptions = {}): Promise<void> {
    const key = `${opts.timeoutMs ?? ''}/${opts.removeVolumes ? 'v' : ''}`;
    let batch = this.removals.get(key);
    if (!batch) {
      const b: RemovalBatch = { opts, items: [] };
      this.removals.set(key, b);
      setImmediate(() => {
        this.removals.delete(key);
        void this.removeBatch(b);
      });
      batch = b;
    }
    const items = batch.items;
    return new Promise((resolve, reject) => items.push({ record, resolve, reject }));
  }

  private async removeBatch(batch: RemovalBatch): Promise<void> {
    const ctx = this.ctx;
    const records = batch.items.map((i) => i.record);
    const errors = new Map<string, unknown>();
    try {
      // a supervisor that died left its containers running: a new one adopts them and stops them
      const sup = (await ctx.existingSupervisor()) ?? (records.some((r) => hasProcesses(ctx.name, r)) ? await ctx.supervisor() : null);
      if (sup) {
        for (const o of await sup.removeMany(
          records.map((r) => r.name),
          { timeoutMs: batch.opts.timeoutMs },
        )) {
          if (o.error && o.error.code !== 'NO_SUCH_SERVICE') errors.set(o.id, new TscError(o.error.code, o.error.message, { hint: o.error.hint }));
        }
      }
      const stopped = records.filter((r) => !errors.has(r.name));
      for (const [id, err] of await destroyLocal(ctx, stopped, { removeVolumes: batch.opts.removeVolumes ?? false })) errors.set(id, err);
    } catch (err) {
      for (const r of records) if (!errors.has(r.name)) errors.set(r.name, err);
    }
    for (const { record, resolve, reject } of batch.items) {
      if (errors.has(record.name)) reject(errors.get(record.name));
      else resolve();
    }
  }
}

/**
 * Removes what is left of one-off containers the supervisor has removed without this process
 * (a `run --rm` whose CLI was killed: the supervisor killed and removed the container, and its
 * record, network namespace, address and anonymous volumes are the project's to remove), or
 * whose start never came (a crash between create and start). Such a one-off has no process
 * and no status record. Call it holding the project lock, so no `run` is between the two.
 * Returns the names removed.
 */
export async function pruneGoneOneOffs(ctx: RuntimeContext): Promise<string[]> {
  const candidates = Object.values(ctx.state.containers).filter(
    (r) => r.oneOff && !existsSync(bundleFiles(recordBundleDir(ctx, r)).status) && !hasProcesses(ctx.name, r),
  );
  if (!candidates.length) return [];
  const sup = await ctx.existingSupervisor();
  const known = new Set(sup ? (await sup.list()).map((st) => st.id) : []);
  const gone = candidates.filter((r) => !known.has(r.id));
  const failed = await destroyLocal(ctx, gone, { removeVolumes: true });
  return gone.filter((r) => !failed.has(r.name)).map((r) => r.name);
}

/** Removes one container at once (no batching): what a failed create leaves behind. */
export async function destroyContainer(ctx: RuntimeContext, record: ContainerRecord, opts: { removeVolumes: boolean }): Promise<void> {
  const sup = await ctx.existingSupervisor();
  if (sup) {
    try {
      await sup.remove(record.name, true);
    } catch (err) {
      if (!isUnknownContainer(err)) throw err;
    }
  }
  const failed = await destroyLocal(ctx, [record], opts);
  if (failed.size) throw failed.values().next().value;
}

/**
 * The part of removing containers the supervisor does not do, or did not know about (a crash
 * mid-create): cgroups, links, netns files, bundles, anonymous volumes, then the record (one
 * write for all). Returns the containers that could not be removed, with why.
 */
async function destroyLocal(ctx: RuntimeContext, records: ContainerRecord[], opts: { removeVolumes: boolean }): Promise<Map<string, unknown>> {
  const errors = new Map<string, unknown>();
  let left: ContainerRecord[] = [];
  for (const record of records) {
    try {
      const cg = containerCgroup(cgroupPathFor(ctx.name, record.name));
      if (cg.exists()) {
        await cg.killAll();
        cg.destroy();
      }
      left.push(record);
    } catch (err) {
      errors.set(record.name, err);
    }
  }
  const detach = left.flatMap((record) =>
    Object.keys(record.addresses ?? {}).flatMap((key) => {
      const rec = ctx.state.networks[key];
      return rec ? [{ network: networkInfo(ctx, key, rec), container: record.name, withNetns: !!record.netns }] : [];
    }),
  );
  try {
    detachContainers(detach);
  } catch (err) {
    for (const r of left) errors.set(r.name, err);
    left = [];
  }
  // bundles in parallel: removed one after the other, they wait on the filesystem in turn
  await Promise.all(
    left.map(async (record) => {
      try {
        if (record.netns) deleteNetns(record.netns);
        if (record.bundleDir) await rm(record.bundleDir, { recursive: true, force: true });
        if (opts.removeVolumes) for (const v of record.anonymousVolumes ?? []) removeVolume(v, ctx.root);
        delete ctx.state.containers[record.id];
      } catch (err) {
        errors.set(record.name, err);
      }
    }),
  );
  if (records.length > errors.size) await ctx.save();
  return errors;
}
