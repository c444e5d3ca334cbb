/**
 * The image store: <root>/blobs (content), <root>/layers (unpacked layers) and <root>/index.json
 * (images and the references that name them). A thin facade: each job lives in its own module
 * (image-index, pull, load, commit, gc); this class wires them to one root and keeps the calls
 * the rest of the product uses.
 */
import { mkdirSync } from 'node:fs';
import type { Writable } from 'node:stream';
import path from 'node:path';

import { TscError } from '../common/errors.js';
import { BlobStore, sha256 } from './blobs.js';
import { ImageCommitter } from './commit.js';
import { parseConfig } from './documents.js';
import { pruneImages, removeImage, type GcContext, type PruneOptions, type PruneResult, type RemoveOptions, type RemoveResult } from './gc.js';
import { ImageIndex, resolveImage, tagImage, toRecord } from './image-index.js';
import { LayerStore } from './layers.js';
import { loadArchive } from './load.js';
import { pullImage, type PullOptions } from './pull.js';
import { pushImage, type PushOptions, type PushResult } from './push.js';
import { saveImages } from './save.js';
import type { ImageRecord, RootfsLayers } from './types.js';

export interface ImageStoreOptions {
  /** tells whether a container uses the image (image id); such images are never removed */
  isInUse?: (imageId: string) => boolean;
  env?: NodeJS.ProcessEnv;
}

export class ImageStore {
  readonly root: string;
  readonly blobs: BlobStore;
  readonly layers: LayerStore;
  private readonly index: ImageIndex;
  private readonly committer: ImageCommitter;
  private readonly opts: ImageStoreOptions;

  constructor(root: string, opts: ImageStoreOptions = {}) {
    this.root = root;
    this.opts = opts;
    this.blobs = new BlobStore(path.join(root, 'blobs'));
    this.layers = new LayerStore(path.join(root, 'layers'));
    this.index = new ImageIndex(root);
    this.committer = new ImageCommitter(this.blobs, this.layers, this.index);
  }

  get(refOrId: string): ImageRecord | undefined {
    const idx = this.index.read();
    const id = resolveImage(idx, refOrId);
    return id ? toRecord(idx, idx.images[id]) : undefined;
  }

  list(): ImageRecord[] {
    const idx = this.index.read();
    return Object.values(idx.images)
      .map((s) => toRecord(idx, s))
      .sort((a, b) => (b.created ?? '').localeCompare(a.created ?? '') || a.id.localeCompare(b.id));
  }

  /** The image's layers as overlayfs lowerdirs, top-most first. The engine does the mount. */
  rootfs(imageId: string): RootfsLayers {
    const idx = this.index.read();
    const id = resolveImage(idx, imageId);
    const im = id ? idx.images[id] : undefined;
    if (!im) throw new TscError('IMAGE_NOT_FOUND', `image ${imageId} is not in the local store (${this.root})`, { hint: 'pull or load it first' });
    // overlayfs refuses the same lowerdir twice ("conflicting lowerdir path"). Keeping only the
    // top-most copy of a repeated layer gives the same union: whatever the lower copy shows or
    // hides, the upper copy shows or hides over everything beneath it as well.
    const lowerDirs = [...new Set(im.diffIds.map((d) => this.layers.diffDir(d)).reverse())];
    if (lowerDirs.length === 0) {
      // an image without layers (FROM scratch with only config) runs on an empty root
      const empty = path.join(this.layers.dir, 'empty', 'diff');
      mkdirSync(this.layers.dir, { recursive: true, mode: 0o700 });
      mkdirSync(empty, { recursive: true, mode: 0o755 });
      lowerDirs.push(empty);
    }
    for (const [i, d] of im.diffIds.entries()) {
      if (!this.layers.has(d)) {
        throw new TscError('STATE_CORRUPT', `layer ${i + 1} (${d}) of image ${im.id} is missing from ${this.layers.dir}`, {
          hint: `remove the image (tscompose image rm ${im.id.slice(7, 19)}) and pull it again`,
        });
      }
    }
    return { lowerDirs };
  }

  /** Pulls `ref` from its registry. Layers and blobs already present are not downloaded again. */
  async pull(refStr: string, opts: PullOptions = {}): Promise<ImageRecord> {
    return pullImage({ blobs: this.blobs, layers: this.layers, index: this.index, committer: this.committer, env: this.opts.env }, refStr, opts);
  }

  /** Pushes the image tagged `ref` to its registry (blobs it already has are not sent again). */
  async push(ref: string, opts: PushOptions = {}): Promise<PushResult> {
    return pushImage({ blobs: this.blobs, index: this.index, env: this.opts.env }, ref, opts);
  }

  /** Loads the images of an OCI image-layout archive or a `docker save` archive. */
  async load(archivePath: string): Promise<ImageRecord[]> {
    return loadArchive({ blobs: this.blobs, committer: this.committer }, archivePath);
  }

  /** Writes images (tags, ids, name@digest) to `out` as one `docker save` / OCI layout tar archive. */
  async save(refs: string[], out: Writable): Promise<void> {
    return saveImages({ blobs: this.blobs, index: this.index }, refs, out);
  }

  /** Points the reference `target` at the image `source` names (as `docker tag`); returns the normalized tag. */
  tag(source: string, target: string): string {
    return tagImage(this.index, source, target);
  }

  /**
   * Removes a reference or an image. A reference of an image that other tags also name is only
   * untagged (unless force). An image a container uses is never removed (IMAGE_IN_USE).
   */
  async remove(refOrId: string, opts: RemoveOptions = {}): Promise<RemoveResult> {
    return removeImage(this.gc(), refOrId, opts);
  }

  /**
   * Takes a layer made on this machine (a gzipped tar whose digests the caller computed while
   * writing it) into the store: the file is moved into the blob store after its digest is
   * checked, and unpacked into the layer store (its diff_id checked), as a pulled layer is.
   */
  async addLayer(file: string, layer: { diffId: string; digest: string }, what: string): Promise<void> {
    if (!this.blobs.has(layer.digest)) await this.blobs.importFile(file, what, layer.digest);
    await this.committer.ensureLayer(layer.diffId, layer.digest, what);
  }

  /**
   * Records an image made on this machine from its config document (serialized here; the id is
   * its digest) and layer blobs already in the store (addLayer), then moves `repoTags` onto it.
   */
  async recordImage(config: object, layerBlobs: string[], repoTags: string[], what: string): Promise<ImageRecord> {
    const bytes = Buffer.from(JSON.stringify(config));
    const configDigest = sha256(bytes);
    const parsed = parseConfig(bytes, what, (why) => new TscError('INTERNAL', `the config made for ${what} ${why}`));
    await this.blobs.writeBuffer(configDigest, bytes, `config of ${what}`);
    return this.committer.commit({ config: parsed, configDigest, layerBlobs, manifestBlobs: [], repoTags, repoDigests: [], what });
  }

  /** The image's layer blob digests, bottom-most first (what a new image on top of it reuses). */
  layerBlobs(imageId: string): string[] {
    const idx = this.index.read();
    const id = resolveImage(idx, imageId);
    const im = id ? idx.images[id] : undefined;
    if (!im) throw new TscError('IMAGE_NOT_FOUND', `image ${imageId} is not in the local store (${this.root})`);
    return [...im.layerBlobs];
  }

  /** The image's config document as stored (history, rootfs, os), parsed as JSON. */
  configDocument(imageId: string): Record<string, unknown> {
    return JSON.parse(this.blobs.read(imageId).toString('utf8')) as Record<string, unknown>;
  }

  /** Removes untagged images (every unused one with `all`) and content no image references. */
  async prune(opts: PruneOptions = {}): Promise<PruneResult> {
    return pruneImages(this.gc(), opts);
  }

  private gc(): GcContext {
    return { blobs: this.blobs, layers: this.layers, index: this.index, isInUse: this.opts.isInUse };
  }
}
