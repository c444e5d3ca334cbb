/**
 * A stored layer blob read back as what it is: its compression (by magic bytes) and its bytes
 * uncompressed. `image save` writes uncompressed layer tars (what `docker save` writes and
 * `docker load` checks against the config's diff_ids); `image push` compresses a layer the store
 * keeps uncompressed (a loaded `docker save` archive) before it goes to a registry.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';

import { TscError } from '../common/errors.js';
import type { BlobStore } from './blobs.js';
import { detectCompression, type Compression } from './unpack.js';

/** The compression of a stored blob, from its first bytes. */
export async function blobCompression(blobs: BlobStore, digest: string): Promise<Compression> {
  const fh = await open(blobs.path(digest), 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await fh.read(head, 0, 4, 0);
    return detectCompression(head.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

/** The layer's uncompressed tar as a stream (gunzipped when the blob is gzip). */
export async function uncompressedLayer(blobs: BlobStore, digest: string, what: string): Promise<Readable> {
  const c = await blobCompression(blobs, digest);
  if (c === 'zstd') throw new TscError('IMAGE_ARCHIVE', `${what} is zstd-compressed, which tscompose cannot decompress`);
  const raw = createReadStream(blobs.path(digest), { highWaterMark: 256 * 1024 });
  return c === 'gzip' ? raw.pipe(createGunzip()) : raw;
}

/**
 * Reads the layer once to learn its uncompressed size, checking that its bytes are the diff_id
 * the config names (STATE_CORRUPT otherwise: the store's content no longer matches its index).
 */
export async function uncompressedSize(blobs: BlobStore, digest: string, diffId: string, what: string): Promise<number> {
  const h = createHash('sha256');
  let n = 0;
  for await (const c of await uncompressedLayer(blobs, digest, what)) {
    h.update(c as Buffer);
    n += (c as Buffer).length;
  }
  const got = `sha256:${h.digest('hex')}`;
  if (got !== diffId) {
    throw new TscError('STATE_CORRUPT', `${what} (${digest}) does not unpack to its diff_id: expected ${diffId}, got ${got}`, {
      hint: 'remove the image and pull or load it again',
    });
  }
  return n;
}
