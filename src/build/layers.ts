/**
 * From a step's changes to a layer of the stage: RUN's container upper directory or COPY's
 * written directory becomes a tar (layer-tar.ts), goes into the image store as a pulled layer
 * would (blob + unpacked layer), and the stage gains the layer and its history entry. A step
 * that changed nothing gets an `empty_layer` history entry, as BuildKit writes it.
 */
import { lstatSync, mkdirSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import path from 'node:path';

import { imageEntry, type ImageStore } from '../images/index.js';
import { faultWrite } from '../sys/fault.js';
import { lgetxattr } from '../sys/xattr.js';
import { writeLayerTar } from './layer-tar.js';
import { MOUNT_POINTS } from './run.js';
import { isoTime, type StageImage } from './state.js';

export interface LayerContext {
  store: ImageStore;
  scratchDir: string;
  epoch: number;
  /** a fresh number per call, for file names */
  seq(): number;
}

/** The stage's layer directories, top-most first (an empty directory for a stage with none). */
export function lowerDirsOf(c: LayerContext, s: StageImage): string[] {
  const dirs = [...new Set(s.diffIds.map((d) => c.store.layers.diffDir(d)).reverse())];
  if (dirs.length === 0) {
    const empty = path.join(c.scratchDir, 'empty');
    mkdirSync(empty, { recursive: true, mode: 0o755 });
    dirs.push(empty);
  }
  return dirs;
}

/** Metadata-only step: a history entry without a layer. */
export function addHistory(c: LayerContext, s: StageImage, createdBy: string): void {
  s.history.push({ created: isoTime(c.epoch), created_by: createdBy, empty_layer: true });
}

/** Turns `upper` into the stage's next layer (or an empty_layer entry when it holds nothing). */
export async function commitUpper(c: LayerContext, s: StageImage, upper: string, createdBy: string): Promise<void> {
  const file = path.join(c.scratchDir, `layer-${c.seq()}.tar.gz`);
  try {
    faultWrite(file);
    const lt = await writeLayerTar(upper, file, c.epoch);
    if (lt.entries === 0) {
      addHistory(c, s, createdBy);
      return;
    }
    await c.store.addLayer(lt.file, lt, `a layer of the build (${createdBy.slice(0, 80)})`);
    s.diffIds.push(lt.diffId);
    s.layerBlobs.push(lt.digest);
    s.history.push({ created: isoTime(c.epoch), created_by: createdBy });
  } finally {
    rmSync(file, { force: true });
  }
}

const isEmpty = (p: string): boolean => {
  const st = lstatSync(p, { throwIfNoEntry: false });
  if (!st) return false;
  if (st.isDirectory()) return readdirSync(p).length === 0;
  return st.isFile() && st.size === 0;
};

/**
 * Drops from a RUN's upper directory the mount points the engine made (/proc, /sys, /dev, the
 * /etc files) when the image did not have them: they are the container's, not the step's.
 */
export function dropMountPoints(upper: string, lowerDirs: string[]): void {
  for (const mp of MOUNT_POINTS) {
    const p = path.join(upper, mp);
    if (!imageEntry(lowerDirs, mp) && isEmpty(p)) rmSync(p, { recursive: true, force: true });
  }
  // /etc copied up only to hold those mount points adds nothing either
  const etc = path.join(upper, 'etc');
  if (!isEmpty(etc) || lgetxattr(etc, 'trusted.overlay.opaque')) return;
  const mine = lstatSync(etc);
  const lower = imageEntry(lowerDirs, 'etc')?.st;
  if (!lower || (lower.mode === mine.mode && lower.uid === mine.uid && lower.gid === mine.gid)) rmdirSync(etc);
}
