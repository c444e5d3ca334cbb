/**
 * A build's scratch directory, `<root>/build/tmp/<pid>.<hex>/` (RUN bundles, upper directories,
 * layer tars, network namespace files), and the kernel objects named after it: cgroups under
 * `tscompose/build.<hex>` and the build network of project `build.<hex>`. `release` removes all
 * of it at the end of a build; `sweepDeadBuilds` removes what a build killed mid-way left (its
 * pid is gone), at the start of the next build.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';

import { isPidAlive } from '../common/process.js';
import { layout } from '../common/layout.js';
import { cgroupPathFor, removeCgroupTree } from '../engine/index.js';
import { cleanupProject, deleteNetns, isMounted } from '../network/index.js';
import { faultPoint } from '../sys/fault.js';

export interface Scratch {
  dir: string;
  /** `build.<hex>`: the name the build's cgroups and network links carry */
  project: string;
}

export function createScratch(root: string): Scratch {
  const tag = randomBytes(4).toString('hex');
  const dir = path.join(layout.buildTmp(root), `${process.pid}.${tag}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  faultPoint(`build scratch ${dir}`);
  return { dir, project: `build.${tag}` };
}

/** Removes the scratch directory and every kernel object of the build. */
export async function releaseScratch(root: string, s: Scratch, hadNetwork: boolean): Promise<void> {
  await removeCgroupTree(cgroupPathFor(s.project)).catch(() => undefined);
  if (existsSync(s.dir)) {
    for (const f of readdirSync(s.dir)) {
      const p = path.join(s.dir, f);
      if (f.endsWith('.netns') && isMounted(p)) deleteNetns(p);
    }
  }
  if (hadNetwork) cleanupProject(root, s.project);
  await rm(s.dir, { recursive: true, force: true });
}

/** Cleans up after builds whose process is gone (killed mid-build). */
export async function sweepDeadBuilds(root: string): Promise<void> {
  const tmp = layout.buildTmp(root);
  if (!existsSync(tmp)) return;
  for (const n of readdirSync(tmp)) {
    const m = /^(\d+)\.([0-9a-f]{8})$/.exec(n);
    if (!m || Number(m[1]) === process.pid || isPidAlive(Number(m[1]))) continue;
    await releaseScratch(root, { dir: path.join(tmp, n), project: `build.${m[2]}` }, true);
  }
}
