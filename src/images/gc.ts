/**
 * Removing images and collecting what no image uses. Under the index lock, the layers and blobs
 * that no remaining image references are only renamed out of the store (quick); they are deleted
 * after the lock is released. Content that no image names (left by an interrupted pull or load)
 * is collected by prune once it is old enough that no running pull can still need it.
 */
import { statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';

import { TscError } from '../common/errors.js';
import { digestHex, type BlobStore } from './blobs.js';
import { resolveImage, type ImageIndex, type IndexFile, type StoredImage } from './image-index.js';
import type { LayerStore } from './layers.js';
import { parseReference } from './reference.js';

export interface RemoveOptions {
  /** remove the image even when other tags name it */
  force?: boolean;
  /** ids of images that containers use (added to the store's isInUse hook) */
  inUse?: Iterable<string>;
}

export interface RemoveResult {
  untagged: string[];
  deleted: string[];
}

export interface PruneOptions {
  /** remove every image no container uses, not only untagged ones */
  all?: boolean;
  inUse?: Iterable<string>;
}

export interface PruneResult {
  deleted: string[];
  reclaimedBytes: number;
}

export interface GcContext {
  blobs: BlobStore;
  layers: LayerStore;
  index: ImageIndex;
  /** tells whether a container uses the image (image id); such images are never removed */
  isInUse?: (imageId: string) => boolean;
}

function inUseSet(ctx: GcContext, extra?: Iterable<string>): (id: string) => boolean {
  const set = new Set(extra ?? []);
  return (id) => set.has(id) || (ctx.isInUse?.(id) ?? false);
}

/**
 * Removes a reference or an image. A reference of an image that other tags also name is only
 * untagged (unless force). An image a container uses is never removed (IMAGE_IN_USE).
 */
export async function removeImage(ctx: GcContext, refOrId: string, opts: RemoveOptions = {}): Promise<RemoveResult> {
  const inUse = inUseSet(ctx, opts.inUse);
  const result: RemoveResult = { untagged: [], deleted: [] };
  const doomed = ctx.index.update((idx) => {
    const id = resolveImage(idx, refOrId);
    if (!id) {
      throw new TscError('IMAGE_NOT_FOUND', `no such image: ${refOrId}`, { hint: 'tscompose image ls lists the images in the store' });
    }
    const tags = Object.keys(idx.refs).filter((r) => idx.refs[r] === id);
    let byTag: string | undefined;
    try {
      const r = parseReference(refOrId);
      if (!r.digest && idx.refs[r.normalized] === id) byTag = r.normalized;
    } catch {
      /* an id */
    }
    if (byTag && tags.length > 1 && !opts.force) {
      delete idx.refs[byTag];
      result.untagged.push(byTag);
      return undefined;
    }
    if (inUse(id)) {
      throw new TscError('IMAGE_IN_USE', `image ${refOrId} (${id.slice(7, 19)}) is used by a container and cannot be removed`, {
        hint: 'remove the containers that use it first (tscompose down)',
      });
    }
    if (!byTag && tags.length > 1 && !opts.force) {
      throw new TscError('IMAGE_IN_USE', `image ${id.slice(7, 19)} is referenced by ${tags.length} tags (${tags.join(', ')})`, {
        hint: 'remove the tags one by one, or use --force',
      });
    }
    for (const t of tags) {
      delete idx.refs[t];
      result.untagged.push(t);
    }
    const im = idx.images[id];
    delete idx.images[id];
    result.deleted.push(id);
    return detachUnused(ctx, idx, [im]).paths;
  });
  if (doomed) await deletePaths(doomed);
  return result;
}

/**
 * Called under the index lock with the index as it will be written: moves the layers and
 * blobs of removed images that no remaining image uses out of the store (renames, so this is
 * quick). A pull committing at the same time either sees them gone and fetches them again,
 * or is already in the index and keeps them. Returns what to delete after the lock and the
 * bytes that frees.
 */
function detachUnused(ctx: GcContext, idx: IndexFile, removed: StoredImage[]): { paths: string[]; freed: number } {
  const keepLayers = new Set<string>();
  const keepBlobs = new Set<string>();
  for (const im of Object.values(idx.images)) {
    im.diffIds.forEach((d) => keepLayers.add(d));
    [im.id, ...im.layerBlobs, ...im.manifestBlobs].forEach((b) => keepBlobs.add(b));
  }
  const paths: string[] = [];
  let freed = 0;
  for (const im of removed) {
    for (const d of im.diffIds) {
      if (keepLayers.has(d)) continue;
      keepLayers.add(d); // once
      const size = ctx.layers.info(d)?.size ?? 0;
      const p = ctx.layers.detach(d);
      if (p) {
        paths.push(p);
        freed += size;
      }
    }
    for (const b of [im.id, ...im.layerBlobs, ...im.manifestBlobs]) {
      if (keepBlobs.has(b)) continue;
      keepBlobs.add(b);
      const size = ctx.blobs.size(b);
      const p = ctx.blobs.detach(b);
      if (p) {
        paths.push(p);
        freed += size;
      }
    }
  }
  return { paths, freed };
}

async function deletePaths(paths: string[]): Promise<void> {
  for (const p of paths) await rm(p, { recursive: true, force: true });
}

/**
 * Removes untagged images (every unused image with `all`), then content that no image
 * references and that no running pull can still need (older than ten minutes), and the
 * temporary files (blobs, layers, index writes) of processes that are gone.
 */
export async function pruneImages(ctx: GcContext, opts: PruneOptions = {}): Promise<PruneResult> {
  const { blobs, layers, index } = ctx;
  const inUse = inUseSet(ctx, opts.inUse);
  const removed = index.update((idx) => {
    const tagged = new Set(Object.values(idx.refs));
    const out: StoredImage[] = [];
    for (const [id, im] of Object.entries(idx.images)) {
      if (inUse(id) || (!opts.all && tagged.has(id))) continue;
      for (const [r, target] of Object.entries(idx.refs)) if (target === id) delete idx.refs[r];
      delete idx.images[id];
      out.push(im);
    }
    return { out, ...detachUnused(ctx, idx, out) };
  });
  await deletePaths(removed.paths);
  let freed = removed.freed;
  freed += blobs.cleanTemp();
  await layers.cleanTemp();
  index.cleanTemp();
  // orphans: content left by interrupted pulls or loads
  const idx = index.read();
  const keepLayers = new Set(Object.values(idx.images).flatMap((im) => im.diffIds));
  const keepBlobs = new Set(Object.values(idx.images).flatMap((im) => [im.id, ...im.layerBlobs, ...im.manifestBlobs]));
  const old = Date.now() - 10 * 60_000;
  for (const d of layers.list()) {
    if (keepLayers.has(d)) continue;
    const p = path.join(layers.dir, digestHex(d));
    if (statSync(p).mtimeMs > old) continue;
    freed += layers.info(d)?.size ?? 0;
    await layers.remove(d);
  }
  for (const b of blobs.list()) {
    if (keepBlobs.has(b)) continue;
    const st = statSync(blobs.path(b));
    if (st.mtimeMs > old) continue;
    freed += st.size;
    blobs.remove(b);
  }
  return { deleted: removed.out.map((r) => r.id), reclaimedBytes: freed };
}
