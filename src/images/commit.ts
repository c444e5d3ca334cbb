/**
 * Turning a config and its layer blobs into an image: every layer is unpacked (once, even when
 * two pulls in this process need it at the same time) and verified against its diff_id, and
 * only then does the index name the image, so a reader of the index never sees an image whose
 * layers are missing. Pull and load both end here.
 */
import { once } from 'node:events';
import { PassThrough } from 'node:stream';

import { TscError } from '../common/errors.js';
import type { BlobStore } from './blobs.js';
import type { ConfigJson } from './documents.js';
import { toRecord, type ImageIndex, type StoredImage } from './image-index.js';
import type { LayerStore } from './layers.js';
import type { Descriptor } from './platform.js';
import { pool } from './pool.js';
import type { ImageRecord, PullEvent } from './types.js';

export interface CommitInput {
  /** the image config, checked (documents.ts parseConfig) */
  config: ConfigJson;
  configDigest: string;
  /** layer blob digests already in the blob store, bottom-most first */
  layerBlobs: string[];
  manifestBlobs: string[];
  manifestDigest?: string;
  repoTags: string[];
  repoDigests: string[];
  what: string;
  onProgress?: (ev: PullEvent) => void;
}

/** A layer disappeared between unpacking and recording the image (a concurrent removal). */
export class LayerVanished extends TscError {
  constructor(diffId: string) {
    super('STATE_CORRUPT', `layer ${diffId} was removed while the image using it was being recorded`, {
      hint: 'another tscompose command removed images at the same time; run the command again',
    });
  }
}

export class ImageCommitter {
  /** layers being unpacked by this process, so two images pulled at once share the work */
  private readonly unpacking = new Map<string, Promise<unknown>>();

  constructor(
    private readonly blobs: BlobStore,
    private readonly layers: LayerStore,
    private readonly index: ImageIndex,
  ) {}

  /** Whether this process is unpacking the layer right now. */
  isUnpacking(diffId: string): boolean {
    return this.unpacking.has(diffId);
  }

  /** Unpacks the layer from its stored blob unless it is present (or being unpacked). */
  async ensureLayer(diffId: string, blob: string, what: string, onProgress?: (ev: PullEvent) => void): Promise<void> {
    if (this.layers.has(diffId)) return;
    let p = this.unpacking.get(diffId);
    if (!p) {
      // both the layer and its blob gone: removed by another process since this pull looked
      if (!this.blobs.has(blob)) throw new LayerVanished(diffId);
      onProgress?.({ kind: 'unpack-start', digest: blob });
      p = this.layers.create(diffId, this.blobs.path(blob), what).finally(() => this.unpacking.delete(diffId));
      this.unpacking.set(diffId, p);
      await p;
      onProgress?.({ kind: 'unpack-done', digest: blob });
      return;
    }
    await p;
  }

  /**
   * Unpacks a layer while it downloads: every verified-as-it-goes chunk is also fed to the
   * unpacker. The layer appears only if both the blob digest and the diff_id check out; a
   * failure on either side stops the other.
   */
  async downloadAndUnpack(
    l: Descriptor,
    diffId: string,
    what: string,
    onProgress: ((ev: PullEvent) => void) | undefined,
    download: (tee: (c: Buffer) => Promise<void>) => Promise<void>,
  ): Promise<void> {
    const feed = new PassThrough({ highWaterMark: 1 << 20 });
    let unpackError: unknown;
    const unpack = this.layers.create(diffId, feed, what);
    this.unpacking.set(
      diffId,
      unpack.catch(() => undefined),
    );
    // the unpacker can also end early without error (another process finished the same layer)
    let unpackEnded = false;
    const ended = unpack.then(
      () => {
        unpackEnded = true;
      },
      (e) => {
        unpackError = e;
      },
    );
    // An unsafe layer (or a full disk) stops the download at once. Any other unpack failure
    // (bad gzip, bad tar) may come from corrupted bytes, so the download goes on to the digest
    // check: a digest mismatch is the truer cause to report.
    const fatal = (e: unknown): boolean => e instanceof TscError && (e.code === 'IMAGE_UNSAFE' || e.code === 'DISK_FULL');
    const tee = async (c: Buffer): Promise<void> => {
      if (unpackError !== undefined || unpackEnded) {
        if (fatal(unpackError)) throw unpackError;
        return;
      }
      if (!feed.write(c)) await Promise.race([once(feed, 'drain'), ended]);
      if (fatal(unpackError)) throw unpackError;
    };
    try {
      try {
        await download(tee);
        onProgress?.({ kind: 'unpack-start', digest: l.digest });
        feed.end();
      } catch (e) {
        feed.destroy();
        await unpack.catch(() => undefined);
        throw e;
      }
      try {
        await unpack;
      } catch (e) {
        // the download can finish before the unpacker reaches the entry that escapes: the blob
        // is then stored, but no image can ever use content that is unsafe to unpack
        if (e instanceof TscError && e.code === 'IMAGE_UNSAFE') this.blobs.remove(l.digest);
        throw e;
      }
      onProgress?.({ kind: 'unpack-done', digest: l.digest });
    } finally {
      this.unpacking.delete(diffId);
    }
  }

  /** Unpacks every layer (if needed) and records the image. Returns its record. */
  async commit(c: CommitInput): Promise<ImageRecord> {
    const cfg = c.config;
    const diffIds = cfg.rootfs.diff_ids;
    if (diffIds.length !== c.layerBlobs.length) {
      throw new TscError('IMAGE_ARCHIVE', `${c.what} has ${c.layerBlobs.length} layers but its config lists ${diffIds.length}`);
    }
    await pool(
      diffIds.map((d, i) => ({ d, i })),
      2,
      ({ d, i }) => this.ensureLayer(d, c.layerBlobs[i], `layer ${i + 1}/${diffIds.length} (${c.layerBlobs[i]}) of ${c.what}`, c.onProgress),
    );
    const size = diffIds.reduce((n, d) => n + (this.layers.info(d)?.size ?? 0), 0);
    const stored: StoredImage = {
      id: c.configDigest,
      repoDigests: c.repoDigests,
      manifestDigest: c.manifestDigest,
      diffIds,
      os: cfg.os ?? 'linux',
      architecture: cfg.architecture ?? 'unknown',
      size,
      created: cfg.created,
      config: cfg.config ?? {},
      layerBlobs: c.layerBlobs,
      manifestBlobs: c.manifestBlobs,
    };
    return this.index.update((idx) => {
      const gone = diffIds.find((d) => !this.layers.has(d));
      if (gone) throw new LayerVanished(gone);
      const old = idx.images[stored.id];
      if (old) {
        stored.repoDigests = [...new Set([...old.repoDigests, ...stored.repoDigests])].sort();
        stored.manifestBlobs = [...new Set([...old.manifestBlobs, ...stored.manifestBlobs])];
        stored.manifestDigest = stored.manifestDigest ?? old.manifestDigest;
      }
      idx.images[stored.id] = stored;
      for (const t of c.repoTags) idx.refs[t] = stored.id; // a tag moves to the newest image
      return toRecord(idx, stored);
    });
  }
}
