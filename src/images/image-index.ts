/**
 * The image index, <root>/index.json: the images in the store and the references (name:tag)
 * that name them. Every change is a read-modify-write under <root>/index.lock, shared with other
 * tscompose processes, and the file is replaced atomically (src/sys/files.ts), so a reader sees
 * the old or the new index, never a torn one. The index names an image only once its layers are
 * in the layer store.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

import { TscError } from '../common/errors.js';
import { isPidAlive } from '../common/process.js';
import { atomicTempOf, withLockSync, writeFileAtomicSync } from '../sys/files.js';
import { describeIssues, imageConfigSchema } from './documents.js';
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

const storedImage = z.looseObject({
  id: z.string(),
  repoDigests: z.array(z.string()),
  manifestDigest: z.string().optional(),
  diffIds: z.array(z.string()),
  os: z.string(),
  architecture: z.string(),
  size: z.number(),
  created: z.string().optional(),
  config: imageConfigSchema,
  layerBlobs: z.array(z.string()),
  manifestBlobs: z.array(z.string()),
});

const indexFile = z
  .looseObject({
    version: z.literal(1),
    images: z.record(z.string(), storedImage),
    refs: z.record(z.string(), z.string()),
  })
  .superRefine((idx, ctx) => {
    for (const [id, im] of Object.entries(idx.images)) {
      if (im.id !== id) ctx.addIssue({ code: 'custom', path: ['images', id, 'id'], message: `is ${im.id}, not the key it is stored under` });
    }
    for (const [ref, id] of Object.entries(idx.refs)) {
      if (!idx.images[id]) ctx.addIssue({ code: 'custom', path: ['refs', ref], message: `names image ${id}, which the index does not hold` });
    }
  });

export class ImageIndex {
  readonly path: string;
  readonly lockPath: string;
  private readonly lockTimeoutMs: number;

  /** `lockTimeoutMs`: how long update() waits for another process's lock (default 30 s). */
  constructor(root: string, opts: { lockTimeoutMs?: number } = {}) {
    this.lockTimeoutMs = opts.lockTimeoutMs ?? 30_000;
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
    let why: string;
    let cause: unknown;
    try {
      const r = indexFile.safeParse(JSON.parse(text));
      if (r.success) return r.data;
      why = describeIssues(r.error);
      cause = r.error;
    } catch (e) {
      why = 'is not JSON';
      cause = e;
    }
    throw new TscError('STATE_CORRUPT', `image index ${this.path} ${why}`, {
      cause,
      hint: 'move the file away and pull or load the images again',
    });
  }

  /** Removes the temporary files of index writes whose process is gone (a crash mid-write). */
  cleanTemp(): void {
    let names: string[];
    try {
      names = readdirSync(path.dirname(this.path));
    } catch {
      return;
    }
    for (const n of names) {
      const pid = atomicTempOf(n, path.basename(this.path));
      if (pid !== undefined && pid !== process.pid && !isPidAlive(pid)) rmSync(path.join(path.dirname(this.path), n), { force: true });
    }
  }

  private write(idx: IndexFile): void {
    try {
      writeFileAtomicSync(this.path, JSON.stringify(idx, null, 1) + '\n');
    } catch (e) {
      throw fsFailure(e, `writing the image index ${this.path}`);
    }
  }

  /**
   * Read-modify-write of the index under a flock on index.lock, shared with other tscompose
   * processes. The kernel drops the lock when its holder dies, so a crash never leaves the
   * store locked; a waiter gives up after 30 s naming the holder (STATE_LOCKED).
   */
  update<T>(fn: (idx: IndexFile) => T): T {
    let locked = false;
    try {
      return withLockSync(this.lockPath, { what: 'the image index', timeoutMs: this.lockTimeoutMs }, () => {
        locked = true;
        const idx = this.read();
        const out = fn(idx);
        this.write(idx);
        return out;
      });
    } catch (e) {
      // taking the lock writes the holder into the lock file, which a full disk refuses
      throw locked ? e : fsFailure(e, `locking the image index (${this.lockPath})`);
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

/**
 * Points the reference `target` (name[:tag], "latest" by default) at the image `source` names,
 * moving it from any image it named before, as `docker tag` does. Returns the normalized tag.
 */
export function tagImage(index: ImageIndex, source: string, target: string): string {
  const ref = parseReference(target);
  if (ref.digest) {
    throw new TscError('USAGE', `cannot tag with "${target}": a tag names an image by name and tag, not by digest`, {
      hint: 'e.g. tscompose image tag busybox registry.example.com/team/busybox:v1',
    });
  }
  return index.update((idx) => {
    const id = resolveImage(idx, source);
    if (!id) throw new TscError('IMAGE_NOT_FOUND', `no such image: ${source}`, { hint: 'tscompose image ls lists the images in the store' });
    idx.refs[ref.normalized] = id;
    return ref.normalized;
  });
}
