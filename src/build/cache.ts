/**
 * The step cache: `<root>/build/cache/<key>.json` holds the image state after a step (layers and
 * config). A key chains the previous step's key with what the step does after substitution, the
 * build args it can see and, for COPY/ADD, the hash of what it copies; so changing one step
 * misses from there on. An entry whose layers the store no longer has (image gc removed them)
 * is a miss, and a corrupt entry is ignored: the cache can only save work, never break a build.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { layout } from '../common/layout.js';
import { writeFileAtomicSync } from '../sys/files.js';
import type { ImageStore } from '../images/index.js';
import type { StageImage } from './state.js';

export function stepKey(parent: string, parts: unknown): string {
  return createHash('sha256')
    .update(parent + '\n' + JSON.stringify(parts))
    .digest('hex');
}

export class StepCache {
  private readonly dir: string;
  constructor(
    root: string,
    private readonly store: ImageStore,
  ) {
    this.dir = layout.buildCache(root);
  }

  get(key: string): StageImage | undefined {
    let v: StageImage;
    try {
      v = JSON.parse(readFileSync(path.join(this.dir, `${key}.json`), 'utf8')) as StageImage;
    } catch {
      return undefined;
    }
    if (!Array.isArray(v?.diffIds) || !Array.isArray(v.layerBlobs) || typeof v.config !== 'object' || !Array.isArray(v.history)) return undefined;
    if (v.diffIds.length !== v.layerBlobs.length) return undefined;
    for (let i = 0; i < v.diffIds.length; i++) {
      if (!this.store.layers.has(v.diffIds[i]!) || !this.store.blobs.has(v.layerBlobs[i]!)) return undefined;
    }
    return v;
  }

  put(key: string, v: StageImage): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileAtomicSync(path.join(this.dir, `${key}.json`), JSON.stringify(v));
  }
}
