/**
 * `image load`: OCI image-layout archives (oci-layout, index.json, blobs/sha256/…) and
 * `docker save` archives (manifest.json with Config, RepoTags and Layers). The archive is
 * extracted into a private temporary directory (regular files, directories and symlinks that
 * stay inside it), every blob is checked against its digest, and the images are committed
 * through the same path as a pull.
 */
import { createReadStream, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { open, rm, symlink, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';

import { TscError } from '../common/errors.js';
import { isPidAlive } from '../common/process.js';
import { sha256, type BlobStore } from './blobs.js';
import type { ImageCommitter } from './commit.js';
import { parseConfig, parseDockerSaveManifest, parseImageIndex, parseManifest, parseOciLayout, type Fail, type ParsedManifest } from './documents.js';
import { fsFailure } from './errors.js';
import { hostPlatform, selectPlatform, type Descriptor } from './platform.js';
import { parseReference } from './reference.js';
import { readTar, TarFormatError } from './tar.js';
import type { ImageRecord } from './types.js';
import { components, detectCompression } from './unpack.js';

function archiveError(file: string, why: string, cause?: unknown): TscError {
  return new TscError('IMAGE_ARCHIVE', `cannot load ${file}: ${why}`, {
    cause,
    hint: 'tscompose loads OCI image-layout archives (skopeo copy … oci-archive:FILE) and docker save archives',
  });
}

async function extract(file: string, dest: string): Promise<void> {
  const what = `archive ${file}`;
  let head: Buffer;
  try {
    // stat first: opening a FIFO would block until a writer comes, a device never ends
    if (!statSync(file).isFile()) throw archiveError(file, 'it is not a regular file (a pipe, a device or a directory)');
    const fh = await open(file, 'r');
    try {
      head = Buffer.alloc(4);
      const { bytesRead } = await fh.read(head, 0, 4, 0);
      head = head.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  } catch (e) {
    if (e instanceof TscError) throw e;
    throw archiveError(file, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file does not exist' : (e as Error).message, e);
  }
  let stream: Readable = createReadStream(file, { highWaterMark: 256 * 1024 });
  if (detectCompression(head) === 'gzip') stream = stream.pipe(createGunzip());
  try {
    for await (const { entry, body } of readTar(stream)) {
      const parts = components(entry.path, what);
      if (parts.length === 0) continue;
      let rel = '';
      for (const c of parts.slice(0, -1)) {
        rel = rel ? `${rel}/${c}` : c;
        const st = lstatSync(path.join(dest, rel), { throwIfNoEntry: false });
        if (!st) await mkdir(path.join(dest, rel));
        else if (!st.isDirectory()) {
          throw new TscError('IMAGE_UNSAFE', `${what}: entry "${entry.path}" passes through "${rel}", which is not a directory; refusing the archive`);
        }
      }
      const abs = path.join(dest, ...parts);
      if (entry.type === 'dir') {
        if (!existsSync(abs)) await mkdir(abs);
      } else if (entry.type === 'file') {
        const fh = await open(abs, 'wx', 0o600);
        try {
          for await (const c of body) await fh.write(c);
        } finally {
          await fh.close();
        }
      } else if (entry.type === 'symlink') {
        // docker save links repeated layers to one copy; targets are checked when read
        await symlink(entry.linkname, abs);
      } else {
        throw new TscError('IMAGE_ARCHIVE', `${what}: entry "${entry.path}" is a ${entry.type}, which an image archive never contains`);
      }
    }
  } catch (e) {
    stream.destroy();
    if (e instanceof TarFormatError) throw archiveError(file, `it is not a valid tar archive (${e.message})`, e);
    if ((e as NodeJS.ErrnoException)?.code === 'EEXIST') throw archiveError(file, `it holds the same entry twice`, e);
    throw fsFailure(e, `extracting ${what}`);
  }
}

/** Resolves an archive-relative path, refusing anything (symlinks included) that leaves the archive. */
function inside(root: string, rel: string, file: string): string {
  const parts = components(rel, `archive ${file}`);
  const abs = path.join(root, ...parts);
  let real: string;
  try {
    real = realpathSync(abs);
  } catch {
    throw archiveError(file, `it lacks "${rel}"`);
  }
  const realRoot = realpathSync(root);
  if (real !== realRoot && !real.startsWith(realRoot + path.sep)) {
    throw new TscError('IMAGE_UNSAFE', `archive ${file}: "${rel}" points outside the archive; refusing it`);
  }
  if (!statSync(real).isFile()) throw archiveError(file, `"${rel}" is not a file`);
  return real;
}

/** The bytes of an archive member and how to fail naming it. */
function member(root: string, rel: string, file: string): [Buffer, Fail] {
  return [readFileSync(inside(root, rel, file)), (why, o) => archiveError(file, `"${rel}" ${why}`, o?.cause)];
}

/** How to fail naming an image's config. */
const configFail =
  (what: string): Fail =>
  (why, o) =>
    new TscError('IMAGE_ARCHIVE', `the config of ${what} ${why}`, o);

/** A name from an OCI annotation, when it is a full reference (a bare tag names no repository). */
function annotatedName(ann: Record<string, string> | undefined): string | undefined {
  const n = ann?.['io.containerd.image.name'] ?? ann?.['org.opencontainers.image.ref.name'];
  if (!n || !/[/:]/.test(n)) return undefined;
  try {
    const r = parseReference(n);
    return r.tag !== undefined ? `${r.name}:${r.tag}` : undefined;
  } catch {
    return undefined;
  }
}

/** What a load works with: the blob store to import into and the committer that records images. */
export interface LoadContext {
  blobs: BlobStore;
  committer: ImageCommitter;
}

/** Loads the images of an OCI image-layout archive or a `docker save` archive (gzipped or not). */
export async function loadArchive(ctx: LoadContext, file: string): Promise<ImageRecord[]> {
  mkdirSync(ctx.blobs.tmpDir, { recursive: true });
  // archives extracted by loads that were killed (load.<pid>.<rand>)
  for (const n of readdirSync(ctx.blobs.tmpDir)) {
    const pid = Number(/^load\.(\d+)\./.exec(n)?.[1]);
    if (pid > 0 && pid !== process.pid && !isPidAlive(pid)) await rm(path.join(ctx.blobs.tmpDir, n), { recursive: true, force: true });
  }
  const dir = path.join(ctx.blobs.tmpDir, `load.${process.pid}.${randomBytes(4).toString('hex')}`);
  mkdirSync(dir);
  try {
    await extract(file, dir);
    if (existsSync(path.join(dir, 'manifest.json'))) return await loadDocker(ctx, dir, file);
    if (existsSync(path.join(dir, 'index.json'))) return await loadOci(ctx, dir, file);
    throw archiveError(file, 'it has neither manifest.json (docker save) nor index.json (OCI image layout)');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function importBlob(ctx: LoadContext, dir: string, file: string, rel: string, what: string, expected?: string): Promise<string> {
  if (expected && ctx.blobs.has(expected)) return expected;
  const p = inside(dir, rel, file);
  return ctx.blobs.importFile(p, what, expected);
}

async function loadDocker(ctx: LoadContext, dir: string, file: string): Promise<ImageRecord[]> {
  const entries = parseDockerSaveManifest(readFileSync(inside(dir, 'manifest.json', file)), (why, o) => archiveError(file, `manifest.json ${why}`, o?.cause));
  const out: ImageRecord[] = [];
  const imported = new Map<string, string>(); // real path → digest (docker save links repeated layers)
  for (const [n, e] of entries.entries()) {
    const tags = (e.RepoTags ?? []).map((t) => {
      const r = parseReference(t);
      return `${r.name}:${r.tag ?? 'latest'}`;
    });
    const what = `${tags[0] ?? `image ${n + 1}`} from ${file}`;
    const configBytes = readFileSync(inside(dir, e.Config, file));
    const config = parseConfig(configBytes, what, configFail(what));
    const configDigest = sha256(configBytes);
    await ctx.blobs.writeBuffer(configDigest, configBytes, `config of ${what}`);
    const layerBlobs: string[] = [];
    for (const [i, l] of e.Layers.entries()) {
      const real = inside(dir, l, file);
      let d = imported.get(real);
      if (!d) {
        d = await ctx.blobs.importFile(real, `layer ${i + 1} of ${what}`);
        imported.set(real, d);
      }
      layerBlobs.push(d);
    }
    out.push(
      await ctx.committer.commit({
        config,
        configDigest,
        layerBlobs,
        manifestBlobs: [],
        repoTags: tags,
        repoDigests: [],
        what,
      }),
    );
  }
  return out;
}

async function loadOci(ctx: LoadContext, dir: string, file: string): Promise<ImageRecord[]> {
  if (!existsSync(path.join(dir, 'oci-layout'))) throw archiveError(file, 'it has index.json but no oci-layout file');
  parseOciLayout(...member(dir, 'oci-layout', file));
  const index = parseImageIndex(...member(dir, 'index.json', file));
  const out: ImageRecord[] = [];
  const blobRel = (d: string): string => {
    const [alg, hex] = d.split(':');
    if (alg !== 'sha256' || !/^[a-f0-9]{64}$/.test(hex ?? '')) {
      throw new TscError('IMAGE_DIGEST', `archive ${file}: "${d}" is not a sha256 digest`);
    }
    return `blobs/sha256/${hex}`;
  };
  const readManifest = async (d: Descriptor): Promise<ParsedManifest> => {
    const bytes = readFileSync(inside(dir, blobRel(d.digest), file));
    if (sha256(bytes) !== d.digest) {
      throw new TscError('IMAGE_DIGEST', `archive ${file}: manifest ${d.digest} does not match its digest`, {
        hint: 'the archive is corrupted or was modified',
      });
    }
    const doc = parseManifest(bytes, (why, o) => archiveError(file, `manifest ${d.digest} ${why}`, o?.cause), d.mediaType);
    await ctx.blobs.writeBuffer(d.digest, bytes, `manifest ${d.digest} in ${file}`);
    return doc;
  };
  for (const top of index) {
    const name = annotatedName(top.annotations);
    const manifestBlobs = [top.digest];
    let desc = top;
    let m = await readManifest(top);
    if (m.kind === 'index') {
      const chosen = selectPlatform(m.manifests, hostPlatform());
      if (!chosen) {
        throw new TscError('IMAGE_NOT_FOUND', `archive ${file}: ${name ?? top.digest} has no image for this machine's platform`);
      }
      desc = chosen;
      m = await readManifest(chosen);
      manifestBlobs.push(chosen.digest);
    }
    if (m.kind !== 'image') throw archiveError(file, `manifest ${desc.digest} is an image index where an image manifest was expected`);
    const what = `${name ?? desc.digest} from ${file}`;
    const configDigest = await importBlob(ctx, dir, file, blobRel(m.config.digest), `config of ${what}`, m.config.digest);
    const layerBlobs: string[] = [];
    for (const [i, l] of m.layers.entries()) {
      layerBlobs.push(await importBlob(ctx, dir, file, blobRel(l.digest), `layer ${i + 1} of ${what}`, l.digest));
    }
    const config = parseConfig(ctx.blobs.read(configDigest), what, configFail(what));
    const parsed = name ? parseReference(name) : undefined;
    out.push(
      await ctx.committer.commit({
        config,
        configDigest,
        layerBlobs,
        manifestBlobs,
        manifestDigest: top.digest,
        repoTags: name ? [name] : [],
        repoDigests: parsed ? [`${parsed.name}@${top.digest}`] : [],
        what,
      }),
    );
  }
  if (out.length === 0) throw archiveError(file, 'index.json lists no images');
  return out;
}
