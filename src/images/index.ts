/** The image store's public surface. */
export { ImageStore } from './store.js';
export type { PullEvent, PullOptions, RemoveOptions, RemoveResult, PruneOptions, PruneResult, ImageStoreOptions } from './store.js';
export { parseReference, familiarName, isLoopbackRegistry, type ImageReference } from './reference.js';
export { hostPlatform, parsePlatform, type Platform } from './platform.js';
export type { ImageRecord, ImageConfig, RootfsLayers } from './types.js';

import path from 'node:path';
import { stateRoot } from '../common/paths.js';
import { ImageStore, type ImageStoreOptions } from './store.js';

/** The store under the state root: <root>/images. */
export function openImageStore(root: string = stateRoot(), opts: ImageStoreOptions = {}): ImageStore {
  return new ImageStore(path.join(root, 'images'), opts);
}
