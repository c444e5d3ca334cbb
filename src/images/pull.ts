/**
 * Pulling an image from its registry into the blob store and the layer store: resolve the
 * reference to a manifest (choosing the platform from an index), download the config and the
 * layers (a few at once, resuming partial downloads, unpacking each while it arrives), then
 * commit. Blobs and layers already present are not fetched again.
 */
import { TscError } from '../common/errors.js';
import { sha256, type BlobStore } from './blobs.js';
import { LayerVanished, type ImageCommitter } from './commit.js';
import { parseConfig, parseManifest, type Fail, type ParsedManifest } from './documents.js';
import { toRecord, type ImageIndex } from './image-index.js';
import type { LayerStore } from './layers.js';
import { hostPlatform, parsePlatform, selectPlatform, type Descriptor } from './platform.js';
import { pool } from './pool.js';
import { parseReference } from './reference.js';
import { RegistryClient } from './registry.js';
import type { ImageRecord, PullEvent } from './types.js';

export interface PullOptions {
  onProgress?: (ev: PullEvent) => void;
  signal?: AbortSignal;
  /** "linux/arm64[/v8]"; the host's platform when omitted */
  platform?: string;
  /** how many layers download at once (default 3) */
  concurrency?: number;
}

/** What a pull works with: the store's parts and the environment for registry credentials. */
export interface PullContext {
  blobs: BlobStore;
  layers: LayerStore;
  index: ImageIndex;
  committer: ImageCommitter;
  env?: NodeJS.ProcessEnv;
}

/** Pulls `ref` from its registry. Layers and blobs already present are not downloaded again. */
export async function pullImage(ctx: PullContext, refStr: string, opts: PullOptions = {}): Promise<ImageRecord> {
  try {
    return await pullOnce(ctx, refStr, opts);
  } catch (e) {
    // an image removal in another process took a layer this pull was reusing: fetch again
    if (e instanceof LayerVanished) return pullOnce(ctx, refStr, opts);
    throw e;
  }
}

async function pullOnce(ctx: PullContext, refStr: string, opts: PullOptions): Promise<ImageRecord> {
  const { blobs, layers, index, committer } = ctx;
  const ref = parseReference(refStr);
  const what = ref.normalized;
  const platform = opts.platform ? parsePlatform(opts.platform) : hostPlatform();
  const client = new RegistryClient(ref, opts.signal, ctx.env);
  const manifestBlobs: string[] = [];

  // by digest, content never changes: an image already here needs no registry at all
  if (ref.digest && !opts.platform) {
    const idx = index.read();
    const have = Object.values(idx.images).find((im) => im.repoDigests.includes(`${ref.name}@${ref.digest}`));
    if (have && have.diffIds.every((d) => layers.has(d))) {
      const rec =
        ref.tag !== undefined
          ? index.update((i) => {
              i.refs[`${ref.name}:${ref.tag}`] = have.id;
              return toRecord(i, i.images[have.id]);
            })
          : toRecord(idx, have);
      opts.onProgress?.({ kind: 'done', id: rec.id, downloaded: false });
      return rec;
    }
  }

  const fetchManifest = async (reference: string, expected?: string): Promise<{ doc: ParsedManifest; digest: string }> => {
    if (expected && blobs.has(expected)) {
      // verified when it was stored
      const fail: Fail = (why, o) => new TscError('IMAGE_REGISTRY', `manifest ${expected} of ${what} ${why}`, o);
      return { doc: parseManifest(blobs.read(expected), fail), digest: expected };
    }
    const m = await client.manifest(reference);
    const digest = sha256(m.body);
    if (expected && digest !== expected) {
      throw new TscError('IMAGE_DIGEST', `manifest of ${what} does not match its digest: expected ${expected}, got ${digest}`);
    }
    if (m.digest && m.digest.startsWith('sha256:') && m.digest !== digest) {
      throw new TscError('IMAGE_DIGEST', `manifest of ${what} does not match the digest the registry announced (${m.digest}, got ${digest})`);
    }
    const fail: Fail = (why, o) => new TscError('IMAGE_REGISTRY', `registry ${ref.endpoint} sent a manifest for ${what} that ${why}`, o);
    const doc = parseManifest(m.body, fail, m.mediaType);
    await blobs.writeBuffer(digest, m.body, `manifest of ${what}`);
    return { doc, digest };
  };

  const top = await fetchManifest(ref.digest ?? ref.tag!, ref.digest);
  const topDigest = top.digest;
  manifestBlobs.push(topDigest);
  let manifest = top;
  if (top.doc.kind === 'index') {
    const chosen = selectPlatform(top.doc.manifests, platform);
    if (!chosen) {
      const have = top.doc.manifests
        .map((m) => [m.platform?.os, m.platform?.architecture, m.platform?.variant].filter(Boolean).join('/'))
        .filter((s) => s && !s.startsWith('unknown'))
        .join(', ');
      throw new TscError(
        'IMAGE_NOT_FOUND',
        `image ${what} has no variant for platform ${[platform.os, platform.architecture, platform.variant].filter(Boolean).join('/')}`,
        {
          hint: have ? `it offers: ${have}` : undefined,
        },
      );
    }
    manifest = await fetchManifest(chosen.digest, chosen.digest);
    manifestBlobs.push(manifest.digest);
  }
  if (manifest.doc.kind !== 'image') {
    throw new TscError('IMAGE_REGISTRY', `manifest ${manifest.digest} of ${what} is an image index where an image manifest was expected`);
  }
  const cfgDesc = manifest.doc.config;
  const layerDescs = manifest.doc.layers;
  opts.onProgress?.({ kind: 'resolved', ref: what, digest: topDigest, layers: layerDescs.map((l) => ({ digest: l.digest, size: l.size })) });

  const download = async (d: Descriptor, label: string, tee?: (c: Buffer) => Promise<void>): Promise<void> => {
    if (blobs.has(d.digest)) return;
    opts.onProgress?.({ kind: 'download-start', digest: d.digest, size: d.size });
    let current = 0;
    await blobs.download(d.digest, (from) => client.blob(d.digest, from), {
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
  const configBytes = blobs.read(cfgDesc.digest);
  const cfg = parseConfig(configBytes, what, (why, o) => new TscError('IMAGE_REGISTRY', `the config of ${what} ${why}`, o));
  const diffIds = cfg.rootfs.diff_ids;
  if (diffIds.length !== layerDescs.length) {
    throw new TscError('IMAGE_REGISTRY', `manifest of ${what} lists ${layerDescs.length} layers but its config lists ${diffIds.length}`);
  }
  const existing = index.read().images[cfgDesc.digest];
  let downloaded = false;
  // a layer is unpacked as soon as it is downloaded, without holding a download slot
  const unpacks: Promise<void>[] = [];
  let downloadError: unknown;
  try {
    await pool(
      layerDescs.map((l, i) => ({ l, i })),
      opts.concurrency ?? 3,
      async ({ l, i }) => {
        if (layers.has(diffIds[i])) {
          opts.onProgress?.({ kind: 'layer-present', digest: l.digest, size: l.size });
          return;
        }
        const label = `layer ${i + 1}/${layerDescs.length}`;
        const layerWhat = `${label} (${l.digest}) of ${what}`;
        if (blobs.has(l.digest) || committer.isUnpacking(diffIds[i])) {
          unpacks.push(committer.ensureLayer(diffIds[i], l.digest, layerWhat, opts.onProgress));
          return;
        }
        downloaded = true;
        // the download slot is held until the last byte arrived; the unpack may finish later
        let fetched!: () => void;
        const arrived = new Promise<void>((r) => (fetched = r));
        const done = committer.downloadAndUnpack(l, diffIds[i], layerWhat, opts.onProgress, async (tee) => {
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
  } catch (e) {
    downloadError = e;
  }
  // every unpack started is awaited whatever happened; an unpack's own error is the precise one
  const settled = await Promise.allSettled(unpacks);
  const bad = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (bad) throw bad.reason;
  if (downloadError !== undefined) throw downloadError;
  const rec = await committer.commit({
    config: cfg,
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
