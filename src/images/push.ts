/**
 * Pushing an image from the store to a registry: the manifest is the one the image was pulled
 * with when it still describes the stored config and layers (so its digest is unchanged), else a
 * new one made from the stored config (so the image id is unchanged) and the stored layer blobs
 * (gzip-compressed first when the store keeps them uncompressed, e.g. from `docker save`).
 * Each blob is checked (HEAD) before anything is sent, mounted from another repository of the
 * same registry the image is known to be in, or uploaded; the manifest goes up only after every
 * blob is in place, so a failed push never leaves a manifest naming missing blobs. Afterwards
 * the image records the repository digest, and the manifest is kept so the next push of the same
 * image sends the same manifest.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

import { TscError } from '../common/errors.js';
import { sha256, type BlobStore } from './blobs.js';
import { MEDIA, parseManifest } from './documents.js';
import type { ImageIndex, StoredImage } from './image-index.js';
import { blobCompression } from './layer-stream.js';
import { pool } from './pool.js';
import { familiarName, parseReference, type ImageReference } from './reference.js';
import { RegistryClient } from './registry.js';
import { BlobUploader } from './registry-push.js';
import type { PushEvent } from './types.js';

export interface PushOptions {
  onProgress?: (ev: PushEvent) => void;
  signal?: AbortSignal;
  /** how many blobs go up at once (default 3) */
  concurrency?: number;
  /** blobs larger than this are uploaded in chunks of this size (default 16 MiB) */
  chunkSize?: number;
}

export interface PushContext {
  blobs: BlobStore;
  index: ImageIndex;
  env?: NodeJS.ProcessEnv;
}

export interface PushResult {
  /** the normalized reference pushed */
  ref: string;
  /** the manifest's digest: the repository digest the registry knows the image by */
  digest: string;
  /** bytes of the manifest */
  size: number;
  /** blobs uploaded, mounted from another repository, and already there */
  uploaded: number;
  mounted: number;
  existing: number;
}

const DEFAULT_CHUNK = 16 * 1024 * 1024;

interface Manifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A manifest the image came with that still describes exactly its config and layer blobs. */
function keptManifest(blobs: BlobStore, im: StoredImage): Manifest | undefined {
  for (const d of im.manifestBlobs) {
    if (!blobs.has(d)) continue;
    const bytes = blobs.read(d);
    let m;
    try {
      m = parseManifest(bytes, (why) => new TscError('STATE_CORRUPT', `stored manifest ${d} ${why}`));
    } catch {
      continue;
    }
    if (
      m.kind !== 'image' ||
      m.config.digest !== im.id ||
      !sameList(
        m.layers.map((l) => l.digest),
        im.layerBlobs,
      )
    )
      continue;
    return { bytes, mediaType: m.mediaType || MEDIA.ociManifest, digest: d };
  }
  return undefined;
}

/** Gzips an uncompressed layer blob into the store; returns the compressed blob's digest. */
async function gzipBlob(blobs: BlobStore, digest: string, what: string): Promise<string> {
  mkdirSync(blobs.tmpDir, { recursive: true });
  const tmp = path.join(blobs.tmpDir, `gzip.${process.pid}.${randomBytes(4).toString('hex')}`);
  try {
    await pipeline(createReadStream(blobs.path(digest)), createGzip(), createWriteStream(tmp, { mode: 0o644 }));
    return await blobs.importFile(tmp, what);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * The image's layer blobs as they go to a registry: compressed. An uncompressed one is gzipped
 * once and the image then names the compressed blob (its diff_id, so its config, is unchanged).
 */
async function compressedLayers(ctx: PushContext, im: StoredImage, what: string): Promise<string[]> {
  const out = [...im.layerBlobs];
  let changed = false;
  for (const [i, b] of out.entries()) {
    if ((await blobCompression(ctx.blobs, b)) !== 'none') continue;
    out[i] = await gzipBlob(ctx.blobs, b, `layer ${i + 1} of ${what}`);
    changed = true;
  }
  if (changed) {
    ctx.index.update((idx) => {
      const cur = idx.images[im.id];
      if (!cur) throw new TscError('IMAGE_NOT_FOUND', `image ${what} was removed while it was being pushed`);
      cur.layerBlobs = cur.layerBlobs.map((b, i) => (b === im.layerBlobs[i] ? out[i] : b));
    });
  }
  return out;
}

/** A new manifest for the stored config and compressed layers: Docker schema 2 for gzip layers, OCI when one is zstd. */
async function newManifest(blobs: BlobStore, im: StoredImage, layers: string[]): Promise<Manifest> {
  const kinds = await Promise.all(layers.map((l) => blobCompression(blobs, l)));
  const oci = kinds.includes('zstd');
  const doc = {
    schemaVersion: 2,
    mediaType: oci ? MEDIA.ociManifest : MEDIA.dockerManifest,
    config: {
      mediaType: oci ? 'application/vnd.oci.image.config.v1+json' : 'application/vnd.docker.container.image.v1+json',
      size: blobs.size(im.id),
      digest: im.id,
    },
    layers: layers.map((l, i) => ({
      mediaType: oci ? `application/vnd.oci.image.layer.v1.tar+${kinds[i]}` : 'application/vnd.docker.image.rootfs.diff.tar.gzip',
      size: blobs.size(l),
      digest: l,
    })),
  };
  const bytes = Buffer.from(JSON.stringify(doc, null, 3));
  return { bytes, mediaType: doc.mediaType, digest: sha256(bytes) };
}

/** A repository of the same registry the image is known to be in (pulled from or pushed to). */
function mountSource(im: StoredImage, ref: ImageReference): string | undefined {
  for (const rd of im.repoDigests) {
    try {
      const r = parseReference(rd);
      if (r.endpoint === ref.endpoint && r.path !== ref.path) return r.path;
    } catch {
      /* not a reference */
    }
  }
  return undefined;
}

/** Pushes the image `refStr` (name[:tag], as tagged in the store) to its registry. */
export async function pushImage(ctx: PushContext, refStr: string, opts: PushOptions = {}): Promise<PushResult> {
  const ref = parseReference(refStr);
  if (ref.digest) throw new TscError('USAGE', `cannot push "${refStr}": push a tag (name:tag), not a digest`);
  const what = familiarName(ref.normalized);
  const idx = ctx.index.read();
  const id = idx.refs[ref.normalized];
  if (!id) {
    throw new TscError('IMAGE_NOT_FOUND', `an image does not exist locally with the tag ${what}`, {
      hint: `tag it first: tscompose image tag IMAGE ${what}`,
    });
  }
  const im = idx.images[id];
  for (const b of [im.id, ...im.layerBlobs]) {
    if (!ctx.blobs.has(b)) {
      throw new TscError('STATE_CORRUPT', `blob ${b} of ${what} is missing from ${ctx.blobs.dir}`, { hint: 'remove the image and pull or load it again' });
    }
  }
  let manifest = keptManifest(ctx.blobs, im);
  const layers = manifest ? im.layerBlobs : await compressedLayers(ctx, im, what);
  manifest ??= await newManifest(ctx.blobs, im, layers);

  const from = mountSource(im, ref);
  const client = new RegistryClient(ref, opts.signal, ctx.env, { mountFrom: from ? [from] : [] });
  const up = new BlobUploader(client, opts.chunkSize ?? DEFAULT_CHUNK);
  const emit = opts.onProgress ?? (() => undefined);
  const result: PushResult = { ref: ref.normalized, digest: manifest.digest, size: manifest.bytes.length, uploaded: 0, mounted: 0, existing: 0 };
  emit({ kind: 'resolved', ref: ref.normalized, layers: layers.map((l) => ({ digest: l, size: ctx.blobs.size(l) })) });

  const todo = [...new Set([...layers, im.id])];
  await pool(todo, opts.concurrency ?? 3, async (digest) => {
    const size = ctx.blobs.size(digest);
    if (await up.exists(digest)) {
      result.existing++;
      emit({ kind: 'layer-exists', digest, size });
      return;
    }
    const at = await up.start(digest, from);
    if (at === 'mounted') {
      result.mounted++;
      emit({ kind: 'layer-mounted', digest, size, from: from! });
      return;
    }
    emit({ kind: 'upload-start', digest, size });
    let current = 0;
    await up.upload(at, ctx.blobs.path(digest), digest, size, (n) => {
      current += n;
      emit({ kind: 'upload-progress', digest, current, total: size });
    });
    result.uploaded++;
    emit({ kind: 'upload-done', digest, size });
  });

  const stored = await up.putManifest(ref.tag ?? 'latest', manifest.bytes, manifest.mediaType);
  if (stored && stored.startsWith('sha256:') && stored !== manifest.digest) {
    throw new TscError('IMAGE_REGISTRY', `registry ${ref.endpoint} stored the manifest of ${what} as ${stored}, not as ${manifest.digest}`);
  }
  await ctx.blobs.writeBuffer(manifest.digest, manifest.bytes, `manifest of ${what}`);
  ctx.index.update((i) => {
    const cur = i.images[im.id];
    if (!cur) return;
    const rd = `${ref.name}@${manifest.digest}`;
    if (!cur.repoDigests.includes(rd)) cur.repoDigests = [...cur.repoDigests, rd].sort();
    if (!cur.manifestBlobs.includes(manifest.digest)) cur.manifestBlobs = [...cur.manifestBlobs, manifest.digest];
  });
  emit({ kind: 'done', digest: manifest.digest, size: manifest.bytes.length });
  return result;
}
