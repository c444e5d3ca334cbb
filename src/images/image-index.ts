/**
 * The image index, <root>/index.json: the images in the store and the references (name:tag)
 * that name them. Every change is a read-modify-write under <root>/index.lock, shared with other
 * tscompose processes, and the file is replaced atomically, so a reader sees the old or the new
 * index, never a torn one. The index names an image only once its layers are in the layer store.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

import { TscError } from '../common/errors.js';
import { isPidAlive } from '../common/process.js';
import { fsFailure } from './errors.js';
import { parseReference, type ImageReference } from './reference.js';
import type { ImageRecord } from './types.js';

/** What the index keeps per image beyond the public record. */
export interface StoredImage extends Omit<ImageRecord, 'repoTags'> {
  /** layer blobs (compressed as stored), bottom-most first, parallel to diffIds */
  layerBlobs: string[];
  /** manifest and index blobs this image was made from */
  manifestBlobs: string[];
}

export interface IndexFile {
  version: 1;
  images: Record<string, StoredImage>;
  /** normalized "name:tag" → image id */
  refs: Record<string, string>;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export class ImageIndex {
  readonly path: string;
  readonly lockPath: string;

  constructor(private readonly root: string) {
    this.path = path.join(root, 'index.json');
    this.lockPath = path.join(root, 'index.lock');
  }

  read(): IndexFile {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return { version: 1, images: {}, refs: {} };
    }
    try {
      const idx = JSON.parse(text) as IndexFile;
      if (idx.version !== 1 || typeof idx.images !== 'object' || typeof idx.refs !== 'object') throw new Error('unexpected shape');
      return idx;
    } catch (e) {
      throw new TscError('STATE_CORRUPT', `image index ${this.path} is not valid: ${(e as Error).message}`, {
        cause: e,
        hint: 'move the file away and pull or load the images again',
      });
    }
  }

  private write(idx: IndexFile): void {
    mkdirSync(this.root, { recursive: true });
    const tmp = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}`;
    try {
      writeFileSync(tmp, JSON.stringify(idx, null, 1) + '\n');
      const fd = openSync(tmp, 'r+');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.path);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw fsFailure(e, `writing the image index ${this.path}`);
    }
  }

  /** Read-modify-write of the index under a lock file shared with other tscompose processes. */
  update<T>(fn: (idx: IndexFile) => T): T {
    mkdirSync(this.root, { recursive: true });
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const fd = openSync(this.lockPath, 'wx');
        writeFileSync(fd, String(process.pid));
        closeSync(fd);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw fsFailure(e, `locking ${this.lockPath}`);
        let holder = NaN;
        try {
          holder = Number(readFileSync(this.lockPath, 'utf8'));
        } catch {
          continue;
        }
        if (Number.isInteger(holder) && holder > 0 && !isPidAlive(holder)) {
          rmSync(this.lockPath, { force: true });
          continue;
        }
        if (Date.now() > deadline) {
          throw new TscError('STATE_LOCKED', `the image index is locked by process ${holder} (${this.lockPath})`, {
            hint: 'wait for the other tscompose command to finish, or remove the lock file if that process is gone',
          });
        }
        sleepSync(20);
      }
    }
    try {
      const idx = this.read();
      const out = fn(idx);
      this.write(idx);
      return out;
    } finally {
      rmSync(this.lockPath, { force: true });
    }
  }
}

/** The public record of a stored image: its tags come from the refs that name it. */
export function toRecord(idx: IndexFile, s: StoredImage): ImageRecord {
  const repoTags = Object.entries(idx.refs)
    .filter(([, id]) => id === s.id)
    .map(([r]) => r)
    .sort();
  const { layerBlobs: _l, manifestBlobs: _m, ...rest } = s;
  return { ...rest, repoTags };
}

/** Finds an image id from an id, an id prefix (12+ hex), a reference or name@digest. */
export function resolveImage(idx: IndexFile, refOrId: string): string | undefined {
  const s = refOrId.trim();
  if (/^sha256:[a-f0-9]{64}$/.test(s) && idx.images[s]) return s;
  const hex = s.startsWith('sha256:') ? s.slice(7) : s;
  if (/^[a-f0-9]{12,64}$/.test(hex)) {
    const hits = Object.keys(idx.images).filter((id) => id.slice(7).startsWith(hex));
    if (hits.length === 1) return hits[0];
  }
  let ref: ImageReference;
  try {
    ref = parseReference(s);
  } catch {
    return undefined;
  }
  if (ref.digest) {
    const want = `${ref.name}@${ref.digest}`;
    const hit = Object.values(idx.images).find((im) => im.repoDigests.includes(want));
    if (hit) return hit.id;
  }
  return idx.refs[ref.normalized];
}
