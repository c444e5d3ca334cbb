/**
 * What the project's containers are doing: their statuses from the supervisor (or from their
 * status files when none owns them) and the planner's view of them.
 */
import { existsSync } from 'node:fs';
import type { ObservedContainer } from '../planner/index.js';
import { bundleFiles } from '../supervisor/paths.js';
import type { ContainerStatus } from '../supervisor/types.js';
import type { RuntimeContext } from './context.js';
import { recordBundleDir } from './records.js';
import { statusFromFile } from './status-file.js';
import { hasProcesses } from './supervisor-access.js';

/** Status of every recorded container, from the supervisor (or its files when it is not running). */
export async function containerStatuses(ctx: RuntimeContext): Promise<Map<string, ContainerStatus>> {
  const out = new Map<string, ContainerStatus>();
  let sup = await ctx.existingSupervisor();
  // containers outlive their supervisor: when it is gone, a new one re-adopts them (and records
  // the exits it missed) before anyone reads a status that may be stale (one-offs too: the
  // supervisor runs every container, an attached `run`'s included)
  if (!sup && Object.values(ctx.state.containers).some((r) => hasProcesses(ctx.name, r))) sup = await ctx.supervisor();
  if (sup) for (const st of await sup.list()) out.set(st.id, st);
  // containers no running supervisor knows: the status files a supervisor left
  for (const rec of Object.values(ctx.state.containers)) {
    if (out.has(rec.id)) continue;
    // no supervisor owns it, so none will restart it
    const st = statusFromFile(recordBundleDir(ctx, rec), { unsupervised: true });
    if (st) out.set(rec.id, st);
  }
  return out;
}

/** The recorded containers as the planner sees them. */
export async function observeContainers(ctx: RuntimeContext): Promise<ObservedContainer[]> {
  const statuses = await containerStatuses(ctx);
  return Object.values(ctx.state.containers).map((rec) => {
    const st = statuses.get(rec.id);
    const runFile = bundleFiles(recordBundleDir(ctx, rec)).run;
    const broken = !existsSync(runFile);
    return {
      id: rec.id,
      name: rec.name,
      service: rec.service,
      number: rec.number,
      oneOff: rec.oneOff,
      configHash: rec.configHash,
      definition: rec.definition,
      imageDigest: rec.imageId,
      state: broken ? 'dead' : st ? (st.state === 'dead' ? 'dead' : st.state) : 'created',
      exitCode: st?.exitCode ?? undefined,
      health: st?.health?.status,
    } satisfies ObservedContainer;
  });
}
