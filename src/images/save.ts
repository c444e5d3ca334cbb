/**
 * `image save`: images from the store as one tar archive in the layout `docker save` writes
 * since Docker 25, which is both a docker-archive and an OCI image layout:
 *
 *   manifest.json           [{Config, RepoTags, Layers}] (what `docker load` and skopeo's docker-archive read)
 *   repositories            {"name": {"tag": "<top layer hex>"}} (legacy)
 *   oci-layout, index.json  the OCI image layout, one index entry per tag
 *   blobs/sha256/<hex>      the configs (unchanged: the image ids stay), the layers as
 *                           uncompressed tars named by their diff_id, the OCI manifests
 *
 * Layers are uncompressed because `docker load` checks each layer file against the config's
 * diff_ids. A layer shared by several images is written once. Entries carry mtime 0, so saving
 * the same images twice gives the same bytes.
 */
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack as tarPack, type Pack } from 'tar-stream';

import { TscError } from '../common/errors.js';
import { sha256, type BlobStore } from './blobs.js';
import { MEDIA } from './documents.js';
import { resolveImage, type ImageIndex, type StoredImage } from './image-index.js';
import { uncompressedLayer, uncompressedSize } from './layer-stream.js';
import { familiarName, parseReference } from './reference.js';

export interface SaveContext {
  blobs: BlobStore;
  index: ImageIndex;
}

const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
const OCI_LAYER_TAR = 'application/vnd.oci.image.layer.v1.tar';

interface Chosen {
  image: StoredImage;
  /** normalized name:tag references the user asked for (none when asked by id) */
  tags: string[];
}

/** Resolves the references to images (each image once, with every tag asked for). */
function choose(ctx: SaveContext, refs: string[]): Chosen[] {
  const idx = ctx.index.read();
  const out = new Map<string, Chosen>();
  for (const r of refs) {
    const id = resolveImage(idx, r);
    if (!id) throw new TscError('IMAGE_NOT_FOUND', `no such image: ${r}`, { hint: 'tscompose image ls lists the images in the store' });
    const c = out.get(id) ?? { image: idx.images[id], tags: [] };
    out.set(id, c);
    let tag: string | undefined;
    try {
      const p = parseReference(r);
      if (!p.digest && idx.refs[p.normalized] === id) tag = p.normalized;
    } catch {
      /* an id */
    }
    if (tag && !c.tags.includes(tag)) c.tags.push(tag);
  }
  return [...out.values()];
}

function addBuffer(pack: Pack, name: string, data: Buffer | string): void {
  pack.entry({ name, mtime: new Date(0), mode: 0o644 }, data);
}

/** Writes the images named by `refs` (tags, ids or name@digest) to `out` as one tar archive. */
export async function saveImages(ctx: SaveContext, refs: string[], out: Writable): Promise<void> {
  if (refs.length === 0) throw new TscError('USAGE', 'image save needs at least one image');
  const pack = tarPack();
  const written = pipeline(pack, out);
  // an output error (a full disk, a closed pipe) ends the writing below at once
  let outError: unknown;
  written.catch((e: unknown) => (outError = e));
  try {
    const chosen = choose(ctx, refs);
    for (const d of ['blobs/', 'blobs/sha256/']) pack.entry({ name: d, type: 'directory', mtime: new Date(0), mode: 0o755 });
    const manifest: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
    const repositories: Record<string, Record<string, string>> = {};
    const index: object[] = [];
    const layerSizes = new Map<string, number>();
    for (const { image, tags } of chosen) {
      const what = `image ${tags[0] ? familiarName(tags[0]) : image.id.slice(7, 19)}`;
      for (const b of [image.id, ...image.layerBlobs]) {
        if (!ctx.blobs.has(b)) {
          throw new TscError('STATE_CORRUPT', `blob ${b} of ${what} is missing from ${ctx.blobs.dir}`, { hint: 'remove the image and pull or load it again' });
        }
      }
      const config = ctx.blobs.read(image.id);
      addBuffer(pack, `blobs/sha256/${image.id.slice(7)}`, config);
      for (const [i, blob] of image.layerBlobs.entries()) {
        const diffId = image.diffIds[i];
        if (layerSizes.has(diffId)) continue;
        const label = `layer ${i + 1} of ${what}`;
        const size = await uncompressedSize(ctx.blobs, blob, diffId, label);
        layerSizes.set(diffId, size);
        if (outError !== undefined) throw outError;
        const entry = pack.entry({ name: `blobs/sha256/${diffId.slice(7)}`, size, mtime: new Date(0), mode: 0o644 });
        await pipeline(await uncompressedLayer(ctx.blobs, blob, label), entry);
      }
      const oci = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MEDIA.ociManifest,
          config: { mediaType: OCI_CONFIG, digest: image.id, size: config.length },
          layers: image.diffIds.map((d) => ({ mediaType: OCI_LAYER_TAR, digest: d, size: layerSizes.get(d)! })),
        }),
      );
      const ociDigest = sha256(oci);
      addBuffer(pack, `blobs/sha256/${ociDigest.slice(7)}`, oci);
      const desc = { mediaType: MEDIA.ociManifest, digest: ociDigest, size: oci.length };
      if (tags.length === 0) index.push(desc);
      for (const t of tags) {
        const i = t.lastIndexOf(':');
        index.push({ ...desc, annotations: { 'io.containerd.image.name': t, 'org.opencontainers.image.ref.name': t.slice(i + 1) } });
        const repo = familiarName(t.slice(0, i));
        const top = image.diffIds.at(-1);
        if (top) (repositories[repo] ??= {})[t.slice(i + 1)] = top.slice(7);
      }
      manifest.push({
        Config: `blobs/sha256/${image.id.slice(7)}`,
        RepoTags: tags.map((t) => familiarName(t)),
        Layers: image.diffIds.map((d) => `blobs/sha256/${d.slice(7)}`),
      });
    }
    addBuffer(pack, 'index.json', JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: index }));
    addBuffer(pack, 'manifest.json', JSON.stringify(manifest));
    addBuffer(pack, 'oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    addBuffer(pack, 'repositories', JSON.stringify(repositories));
    pack.finalize();
    await written;
  } catch (e) {
    // ends the output too (an unopened file stream is closed rather than left to fail later)
    pack.destroy();
    await written.catch(() => undefined);
    throw e;
  }
}
