/**
 * The image store's public surface.
 *
 *   const store = openImageStore();                    // <state root>/images
 *   const rec = await store.pull('busybox', { onProgress });   // or store.load(archive)
 *   const { lowerDirs } = store.rootfs(rec.id);         // top-most first: lowerdir=a:b:c
 *   await store.remove('busybox', { inUse: idsUsedByContainers });
 *   store.tag('busybox', 'registry.example.com/team/busybox:v1');
 *   await store.push('registry.example.com/team/busybox:v1', { onProgress });   // or store.save(refs, stream)
 *
 * The store never mounts: the engine makes the overlay (lowerDirs + its own upper/work dirs).
 * Errors are TscError with IMAGE_* codes (IMAGE_DIGEST, IMAGE_UNSAFE, IMAGE_AUTH, ...).
 */
export { ImageStore } from './store.js';
export { PullProgress, PushProgress } from './progress.js';
export type { ImageStoreOptions } from './store.js';
export type { PullOptions } from './pull.js';
export type { PushOptions, PushResult } from './push.js';
export type { RemoveOptions, RemoveResult, PruneOptions, PruneResult } from './gc.js';
export { parseReference, familiarName, isLoopbackRegistry, type ImageReference } from './reference.js';
export { hostPlatform, parsePlatform, type Platform } from './platform.js';
export type { ImageRecord, ImageConfig, RootfsLayers, PullEvent, PushEvent } from './types.js';
export { copyImageDir, imageDirLayers, imageEntry } from './copy-out.js';

import path from 'node:path';
import { stateRoot } from '../common/paths.js';
import { ImageStore, type ImageStoreOptions } from './store.js';

/** The store under the state root: <root>/images. */
export function openImageStore(root: string = stateRoot(), opts: ImageStoreOptions = {}): ImageStore {
  return new ImageStore(path.join(root, 'images'), opts);
}
