/**
 * The image store: <root>/blobs (content), <root>/layers (unpacked layers) and <root>/index.json
 * (images and the references that name them). Pull and load both end in `commit()`, which makes
 * sure every layer is unpacked and verified before the index names the image, so a reader of the
 * index never sees an image whose layers are missing.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync, openSync, closeSync, rmSync, statSync, fsyncSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';

import { TscError } from '../common/errors.js';
import { BlobStore, digestHex, sha256 } from './blobs.js';
import { isPidAlive } from '../common/process.js';
import { LayerStore } from './layers.js';
import { parseReference, type ImageReference } from './reference.js';
import { MEDIA, RegistryClient } from './registry.js';
import type { ImageConfig, ImageRecord, RootfsLayers } from './types.js';
import { hostPlatform, parsePlatform, selectPlatform, type Descriptor } from './platform.js';
import { loadArchive } from './archive.js';
import { fsFailure } from './unpack.js';

export interface ManifestJson {
  schemaVersion?: number;
  mediaType?: string;
  config?: Descriptor;
  layers?: Descriptor[];
  manifests?: Descriptor[];
}

export interface ConfigJson {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  config?: ImageConfig;
  rootfs?: { type?: string; diff_ids?: string[] };
}

/** What the index keeps per image beyond the public record. */
interface StoredImage extends Omit<ImageRecord, 'repoTags'> {
  /** layer blobs (compressed as stored), bottom-most first, parallel to diffIds */
  layerBlobs: string[];
  /** manifest and index blobs this image was made from */
  manifestBlobs: string[];
}

interface IndexFile {
  version: 1;
  images: Record<string, StoredImage>;
  /** normalized "name:tag" → image id */
  refs: Record<string, string>;
}

export type PullEvent =
  | { kind: 'resolved'; ref: string; digest: string; layers: { digest: string; size: number }[] }
  | { kind: 'layer-present'; digest: string; size: number }
  | { kind: 'download-start'; digest: string; size: number }
  | { kind: 'download-resume'; digest: string; from: number }
  | { kind: 'download-progress'; digest: string; current: number; total: number }
  | { kind: 'download-done'; digest: string; size: number }
  | { kind: 'unpack-start'; digest: string }
  | { kind: 'unpack-done'; digest: string }
  | { kind: 'done'; id: string; downloaded: boolean };

export interface PullOptions {
  onProgress?: (ev: PullEvent) => void;
  signal?: AbortSignal;
  /** "linux/arm64[/v8]"; the host's platform when omitted */
  platform?: string;
  /** how many layers download at once (default 3) */
  concurrency?: number;
}

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

export interface ImageStoreOptions {
  /** tells whether a container uses the image (image id); such images are never removed */
  isInUse?: (imageId: string) => boolean;
  env?: NodeJS.ProcessEnv;
}

export interface CommitInput {
  configBytes: Buffer;
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

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async (): Promise<void> => {
    while (next < items.length && failed === undefined) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (e) {
        if (failed === undefined) failed = e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed !== undefined) throw failed;
}

/** A layer disappeared between unpacking and recording the image (a concurrent removal). */
class LayerVanished extends TscError {
  constructor(diffId: string) {
    super('STATE_CORRUPT', `layer ${diffId} was removed while the image using it was being recorded`, {
      hint: 'another tscompose command removed images at the same time; run the command again',
    });
  }
}

export class ImageStore {
  readonly root: string;
  readonly blobs: BlobStore;
  readonly layers: LayerStore;
  private readonly indexPath: string;
  private readonly lockPath: string;
  private readonly opts: ImageStoreOptions;
  /** layers being unpacked by this process, so two images pulled at once share the work */
  private readonly unpacking = new Map<string, Promise<unknown>>();

  constructor(root: string, opts: ImageStoreOptions = {}) {
    this.root = root;
    this.opts = opts;
    this.blobs = new BlobStore(path.join(root, 'blobs'));
    this.layers = new LayerStore(path.join(root, 'layers'));
    this.indexPath = path.join(root, 'index.json');
    this.lockPath = path.join(root, 'index.lock');
  }

  // ---------------------------------------------------------------- index

  private readIndex(): IndexFile {
    let text: string;
    try {
      text = readFileSync(this.indexPath, 'utf8');
    } catch {
      return { version: 1, images: {}, refs: {} };
    }
    try {
      const idx = JSON.parse(text) as IndexFile;
      if (idx.version !== 1 || typeof idx.images !== 'object' || typeof idx.refs !== 'object') throw new Error('unexpected shape');
      return idx;
    } catch (e) {
      throw new TscError('STATE_CORRUPT', `image index ${this.indexPath} is not valid: ${(e as Error).message}`, {
        cause: e,
        hint: 'move the file away and pull or load the images again',
      });
    }
  }

  private writeIndex(idx: IndexFile): void {
    mkdirSync(this.root, { recursive: true });
    const tmp = `${this.indexPath}.${process.pid}.${randomBytes(4).toString('hex')}`;
    try {
      writeFileSync(tmp, JSON.stringify(idx, null, 1) + '\n');
      const fd = openSync(tmp, 'r+');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.indexPath);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw fsFailure(e, `writing the image index ${this.indexPath}`);
    }
  }

  /** Read-modify-write of the index under a lock file shared with other tscompose processes. */
  private updateIndex<T>(fn: (idx: IndexFile) => T): T {
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
      const idx = this.readIndex();
      const out = fn(idx);
      this.writeIndex(idx);
      return out;
    } finally {
      rmSync(this.lockPath, { force: true });
    }
  }

  private toRecord(idx: IndexFile, s: StoredImage): ImageRecord {
    const repoTags = Object.entries(idx.refs)
      .filter(([, id]) => id === s.id)
      .map(([r]) => r)
      .sort();
    const { layerBlobs: _l, manifestBlobs: _m, ...rest } = s;
    return { ...rest, repoTags };
  }

  /** Finds an image id from an id, an id prefix (12+ hex), a reference or name@digest. */
  private resolve(idx: IndexFile, refOrId: string): string | undefined {
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

  get(refOrId: string): ImageRecord | undefined {
    const idx = this.readIndex();
    const id = this.resolve(idx, refOrId);
    return id ? this.toRecord(idx, idx.images[id]) : undefined;
  }

  list(): ImageRecord[] {
    const idx = this.readIndex();
    return Object.values(idx.images)
      .map((s) => this.toRecord(idx, s))
      .sort((a, b) => (b.created ?? '').localeCompare(a.created ?? '') || a.id.localeCompare(b.id));
  }

  /** The image's layers as overlayfs lowerdirs, top-most first. The engine does the mount. */
  rootfs(imageId: string): RootfsLayers {
    const idx = this.readIndex();
    const id = this.resolve(idx, imageId);
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

  // ---------------------------------------------------------------- commit

  private async ensureLayer(diffId: string, blob: string, what: string, onProgress?: (ev: PullEvent) => void): Promise<void> {
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
  private async downloadAndUnpack(
    l: Descriptor,
    diffId: string,
    what: string,
    onProgress: ((ev: PullEvent) => void) | undefined,
    download: (tee: (c: Buffer) => Promise<void>) => Promise<void>,
  ): Promise<void> {
    const feed = new PassThrough({ highWaterMark: 1 << 20 });
    let unpackError: unknown;
    const unpack = this.layers.create(diffId, feed, what);
    this.unpacking.set(diffId, unpack.catch(() => undefined));
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
      await unpack;
      onProgress?.({ kind: 'unpack-done', digest: l.digest });
    } finally {
      this.unpacking.delete(diffId);
    }
  }

  private parseConfig(bytes: Buffer, what: string): ConfigJson {
    let cfg: ConfigJson;
    try {
      cfg = JSON.parse(bytes.toString('utf8')) as ConfigJson;
    } catch (e) {
      throw new TscError('IMAGE_ARCHIVE', `the config of ${what} is not valid JSON`, { cause: e });
    }
    if (!Array.isArray(cfg.rootfs?.diff_ids)) throw new TscError('IMAGE_ARCHIVE', `the config of ${what} lists no rootfs.diff_ids`);
    for (const d of cfg.rootfs.diff_ids) digestHex(d, `layer diff_id in the config of ${what}`);
    return cfg;
  }

  /** Unpacks every layer (if needed) and records the image. Returns its record. */
  private async commit(c: CommitInput): Promise<ImageRecord> {
    const cfg = this.parseConfig(c.configBytes, c.what);
    const diffIds = cfg.rootfs!.diff_ids!;
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
    return this.updateIndex((idx) => {
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
      return this.toRecord(idx, stored);
    });
  }

  // ---------------------------------------------------------------- pull

  /** Pulls `ref` from its registry. Layers and blobs already present are not downloaded again. */
  async pull(refStr: string, opts: PullOptions = {}): Promise<ImageRecord> {
    try {
      return await this.pullOnce(refStr, opts);
    } catch (e) {
      // an image removal in another process took a layer this pull was reusing: fetch again
      if (e instanceof LayerVanished) return this.pullOnce(refStr, opts);
      throw e;
    }
  }

  private async pullOnce(refStr: string, opts: PullOptions): Promise<ImageRecord> {
    const ref = parseReference(refStr);
    const what = ref.normalized;
    const platform = opts.platform ? parsePlatform(opts.platform) : hostPlatform();
    const client = new RegistryClient(ref, opts.signal, this.opts.env);
    const manifestBlobs: string[] = [];

    // by digest, content never changes: an image already here needs no registry at all
    if (ref.digest && !opts.platform) {
      const idx = this.readIndex();
      const have = Object.values(idx.images).find((im) => im.repoDigests.includes(`${ref.name}@${ref.digest}`));
      if (have && have.diffIds.every((d) => this.layers.has(d))) {
        const rec = ref.tag !== undefined
          ? this.updateIndex((i) => {
              i.refs[`${ref.name}:${ref.tag}`] = have.id;
              return this.toRecord(i, i.images[have.id]);
            })
          : this.toRecord(idx, have);
        opts.onProgress?.({ kind: 'done', id: rec.id, downloaded: false });
        return rec;
      }
    }

    const fetchManifest = async (reference: string, expected?: string): Promise<{ json: ManifestJson; digest: string; mediaType: string }> => {
      if (expected && this.blobs.has(expected)) {
        const body = this.blobs.read(expected);
        const json = JSON.parse(body.toString('utf8')) as ManifestJson;
        return { json, digest: expected, mediaType: json.mediaType ?? '' };
      }
      const m = await client.manifest(reference);
      const digest = sha256(m.body);
      if (expected && digest !== expected) {
        throw new TscError('IMAGE_DIGEST', `manifest of ${what} does not match its digest: expected ${expected}, got ${digest}`);
      }
      if (m.digest && m.digest.startsWith('sha256:') && m.digest !== digest) {
        throw new TscError('IMAGE_DIGEST', `manifest of ${what} does not match the digest the registry announced (${m.digest}, got ${digest})`);
      }
      let json: ManifestJson;
      try {
        json = JSON.parse(m.body.toString('utf8')) as ManifestJson;
      } catch (e) {
        throw new TscError('IMAGE_REGISTRY', `registry ${ref.endpoint} sent a manifest for ${what} that is not JSON`, { cause: e });
      }
      await this.blobs.writeBuffer(digest, m.body, `manifest of ${what}`);
      return { json, digest, mediaType: json.mediaType ?? m.mediaType };
    };

    const top = await fetchManifest(ref.digest ?? ref.tag!, ref.digest);
    const topDigest = top.digest;
    manifestBlobs.push(topDigest);
    let manifest = top;
    if (top.mediaType === MEDIA.ociIndex || top.mediaType === MEDIA.dockerList || (Array.isArray(top.json.manifests) && !top.json.config)) {
      const chosen = selectPlatform(top.json.manifests ?? [], platform);
      if (!chosen) {
        const have = (top.json.manifests ?? [])
          .map((m) => [m.platform?.os, m.platform?.architecture, m.platform?.variant].filter(Boolean).join('/'))
          .filter((s) => s && !s.startsWith('unknown'))
          .join(', ');
        throw new TscError('IMAGE_NOT_FOUND', `image ${what} has no variant for platform ${[platform.os, platform.architecture, platform.variant].filter(Boolean).join('/')}`, {
          hint: have ? `it offers: ${have}` : undefined,
        });
      }
      manifest = await fetchManifest(chosen.digest, chosen.digest);
      manifestBlobs.push(manifest.digest);
    }
    if (manifest.mediaType === MEDIA.dockerSchema1 || manifest.mediaType === MEDIA.dockerSchema1Signed || manifest.json.schemaVersion === 1) {
      throw new TscError('IMAGE_REGISTRY', `image ${what} uses the deprecated Docker schema 1 manifest format, which tscompose does not support`, {
        hint: 'push the image again with a current Docker or skopeo',
      });
    }
    const cfgDesc = manifest.json.config;
    const layerDescs = manifest.json.layers;
    if (!cfgDesc || !Array.isArray(layerDescs)) {
      throw new TscError('IMAGE_REGISTRY', `manifest of ${what} has no config or layers (media type "${manifest.mediaType}")`);
    }
    opts.onProgress?.({ kind: 'resolved', ref: what, digest: topDigest, layers: layerDescs.map((l) => ({ digest: l.digest, size: l.size })) });

    const download = async (d: Descriptor, label: string, tee?: (c: Buffer) => Promise<void>): Promise<void> => {
      if (this.blobs.has(d.digest)) return;
      opts.onProgress?.({ kind: 'download-start', digest: d.digest, size: d.size });
      let current = 0;
      await this.blobs.download(d.digest, (from) => client.blob(d.digest, from), {
        size: d.size,
        what: `${label} of ${what}`,
        tee,
        onResume: (from) => opts.onProgress?.({ kind: 'download-resume', digest: d.digest, from }),
        onBytes: (n) => {
          current += n;
          opts.onProgress?.({ kind: 'download-progress', digest: d.digest, current, total: d.size });
        },
      });
      opts.onProgress?.({ kind: 'download-done', digest: d.digest, size: d.size });
    };

    await download(cfgDesc, 'config');
    const configBytes = this.blobs.read(cfgDesc.digest);
    const cfg = this.parseConfig(configBytes, what);
    const diffIds = cfg.rootfs!.diff_ids!;
    if (diffIds.length !== layerDescs.length) {
      throw new TscError('IMAGE_REGISTRY', `manifest of ${what} lists ${layerDescs.length} layers but its config lists ${diffIds.length}`);
    }
    const existing = this.readIndex().images[cfgDesc.digest];
    let downloaded = false;
    // a layer is unpacked as soon as it is downloaded, without holding a download slot
    const unpacks: Promise<void>[] = [];
    try {
      await pool(
        layerDescs.map((l, i) => ({ l, i })),
        opts.concurrency ?? 3,
        async ({ l, i }) => {
          if (this.layers.has(diffIds[i])) {
            opts.onProgress?.({ kind: 'layer-present', digest: l.digest, size: l.size });
            return;
          }
          const label = `layer ${i + 1}/${layerDescs.length}`;
          const layerWhat = `${label} (${l.digest}) of ${what}`;
          if (this.blobs.has(l.digest) || this.unpacking.has(diffIds[i])) {
            unpacks.push(this.ensureLayer(diffIds[i], l.digest, layerWhat, opts.onProgress));
            return;
          }
          downloaded = true;
          // the download slot is held until the last byte arrived; the unpack may finish later
          let fetched!: () => void;
          const arrived = new Promise<void>((r) => (fetched = r));
          const done = this.downloadAndUnpack(l, diffIds[i], layerWhat, opts.onProgress, async (tee) => {
            try {
              await download(l, label, tee);
            } finally {
              fetched();
            }
          });
          unpacks.push(done);
          await Promise.race([arrived, done.catch(() => undefined)]);
        },
      );
    } finally {
      const settled = await Promise.allSettled(unpacks);
      const bad = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (bad) throw bad.reason;
    }
    const rec = await this.commit({
      configBytes,
      configDigest: cfgDesc.digest,
      layerBlobs: layerDescs.map((l) => l.digest),
      manifestBlobs: existing ? [...new Set([...existing.manifestBlobs, ...manifestBlobs])] : manifestBlobs,
      manifestDigest: topDigest,
      repoTags: ref.tag !== undefined ? [`${ref.name}:${ref.tag}`] : [],
      repoDigests: [`${ref.name}@${topDigest}`],
      what,
      onProgress: opts.onProgress,
    });
    opts.onProgress?.({ kind: 'done', id: rec.id, downloaded });
    return rec;
  }

  // ---------------------------------------------------------------- remove / prune

  private inUseSet(extra?: Iterable<string>): (id: string) => boolean {
    const set = new Set(extra ?? []);
    return (id) => set.has(id) || (this.opts.isInUse?.(id) ?? false);
  }

  /**
   * Removes a reference or an image. A reference of an image that other tags also name is only
   * untagged (unless force). An image a container uses is never removed (IMAGE_IN_USE).
   */
  async remove(refOrId: string, opts: RemoveOptions = {}): Promise<RemoveResult> {
    const inUse = this.inUseSet(opts.inUse);
    const result: RemoveResult = { untagged: [], deleted: [] };
    const doomed = this.updateIndex((idx) => {
      const id = this.resolve(idx, refOrId);
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
      return this.detachUnused(idx, [im]).paths;
    });
    if (doomed) await this.deletePaths(doomed);
    return result;
  }

  /** Deletes the layers and blobs of removed images that no remaining image uses. Returns bytes freed. */
  /**
   * Called under the index lock with the index as it will be written: moves the layers and
   * blobs of removed images that no remaining image uses out of the store (renames, so this is
   * quick). A pull committing at the same time either sees them gone and fetches them again,
   * or is already in the index and keeps them. Returns what to delete after the lock and the
   * bytes that frees.
   */
  private detachUnused(idx: IndexFile, removed: StoredImage[]): { paths: string[]; freed: number } {
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
        const size = this.layers.info(d)?.size ?? 0;
        const p = this.layers.detach(d);
        if (p) {
          paths.push(p);
          freed += size;
        }
      }
      for (const b of [im.id, ...im.layerBlobs, ...im.manifestBlobs]) {
        if (keepBlobs.has(b)) continue;
        keepBlobs.add(b);
        const size = this.blobs.size(b);
        const p = this.blobs.detach(b);
        if (p) {
          paths.push(p);
          freed += size;
        }
      }
    }
    return { paths, freed };
  }

  private async deletePaths(paths: string[]): Promise<void> {
    for (const p of paths) await rm(p, { recursive: true, force: true });
  }

  /**
   * Removes untagged images (every unused image with `all`), then content that no image
   * references and that no running pull can still need (older than ten minutes), and the
   * temporary files of processes that are gone.
   */
  async prune(opts: PruneOptions = {}): Promise<PruneResult> {
    const inUse = this.inUseSet(opts.inUse);
    const removed = this.updateIndex((idx) => {
      const tagged = new Set(Object.values(idx.refs));
      const out: StoredImage[] = [];
      for (const [id, im] of Object.entries(idx.images)) {
        if (inUse(id) || (!opts.all && tagged.has(id))) continue;
        for (const [r, target] of Object.entries(idx.refs)) if (target === id) delete idx.refs[r];
        delete idx.images[id];
        out.push(im);
      }
      return { out, ...this.detachUnused(idx, out) };
    });
    await this.deletePaths(removed.paths);
    let freed = removed.freed;
    freed += this.blobs.cleanTemp();
    await this.layers.cleanTemp();
    // orphans: content left by interrupted pulls or loads
    const idx = this.readIndex();
    const keepLayers = new Set(Object.values(idx.images).flatMap((im) => im.diffIds));
    const keepBlobs = new Set(Object.values(idx.images).flatMap((im) => [im.id, ...im.layerBlobs, ...im.manifestBlobs]));
    const old = Date.now() - 10 * 60_000;
    for (const d of this.layers.list()) {
      if (keepLayers.has(d)) continue;
      const p = path.join(this.layers.dir, digestHex(d));
      if (statSync(p).mtimeMs > old) continue;
      freed += this.layers.info(d)?.size ?? 0;
      await this.layers.remove(d);
    }
    for (const b of this.blobs.list()) {
      if (keepBlobs.has(b)) continue;
      const st = statSync(this.blobs.path(b));
      if (st.mtimeMs > old) continue;
      freed += st.size;
      this.blobs.remove(b);
    }
    return { deleted: removed.out.map((r) => r.id), reclaimedBytes: freed };
  }

  // ---------------------------------------------------------------- load

  /** Records an image whose blobs are already in the blob store (used by archive load). */
  async commitLoaded(c: Omit<CommitInput, 'onProgress'>): Promise<ImageRecord> {
    return this.commit(c);
  }

  /** Loads the images of an OCI image-layout archive or a `docker save` archive. */
  async load(archivePath: string): Promise<ImageRecord[]> {
    return loadArchive(this, archivePath);
  }
}
