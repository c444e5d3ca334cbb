/**
 * One build step's changes as an image layer: a directory in overlayfs upper form (what a RUN
 * container's upper directory holds, or what COPY wrote) becomes a gzipped tar with Docker's
 * whiteouts: a 0/0 character device (a deleted name) becomes `.wh.<name>`, a directory marked
 * trusted.overlay.opaque=y is followed by `.wh..wh..opq` (it replaces the lower one). Entries
 * are sorted by path, every mtime is the build's epoch, owners are numeric without names, so
 * the same changes always give the same bytes. The diff_id (uncompressed) and the blob digest
 * (gzip) are computed while writing.
 */
import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, lstatSync, readdirSync, readlinkSync, createReadStream, type Stats } from 'node:fs';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tar from 'tar-stream';

import { TscError } from '../common/errors.js';
import { lgetxattr, llistxattr } from '../sys/xattr.js';

export interface LayerFile {
  /** the gzipped tar on disk */
  file: string;
  /** sha256 of the uncompressed tar (the config's diff_id) */
  diffId: string;
  /** sha256 of the gzipped file (the blob) */
  digest: string;
  /** number of entries (0: the step changed nothing) */
  entries: number;
}

function hashing(h: Hash): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      h.update(chunk);
      cb(null, chunk);
    },
  });
}

function majorMinor(rdev: number): [number, number] {
  const d = BigInt(rdev);
  return [Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn)), Number((d & 0xffn) | ((d >> 12n) & ~0xffn))];
}

/** xattrs worth keeping in a layer (file capabilities and user data; never overlayfs' own). */
function xattrsOf(p: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const n of llistxattr(p)) {
    if (n.startsWith('trusted.overlay.')) continue;
    if (!n.startsWith('security.capability') && !n.startsWith('user.')) continue;
    const v = lgetxattr(p, n);
    // tar-stream writes pax values as strings: binary values go byte for byte through latin1
    if (v) out[`SCHILY.xattr.${n}`] = v.toString('latin1');
  }
  return Object.keys(out).length ? out : undefined;
}

interface Walked {
  rel: string;
  abs: string;
  st: Stats;
}

/** Every entry below `dir`, parents before children, names sorted byte-wise. */
function walk(dir: string, rel = ''): Walked[] {
  const out: Walked[] = [];
  const names = readdirSync(path.join(dir, rel)).sort((a, b) => (Buffer.from(a) < Buffer.from(b) ? -1 : a === b ? 0 : 1));
  for (const n of names) {
    const r = rel ? `${rel}/${n}` : n;
    const abs = path.join(dir, r);
    const st = lstatSync(abs);
    out.push({ rel: r, abs, st });
    if (st.isDirectory()) out.push(...walk(dir, r));
  }
  return out;
}

/**
 * Writes the layer of `upper` to `out` (gzip) and returns its digests. `epoch` (seconds) is the
 * mtime of every entry.
 */
export async function writeLayerTar(upper: string, out: string, epoch: number): Promise<LayerFile> {
  const entries = walk(upper);
  const pack = tar.pack();
  const diff = createHash('sha256');
  const blob = createHash('sha256');
  const mtime = new Date(epoch * 1000);
  const written = pipeline(pack, hashing(diff), createGzip({ level: 6 }), hashing(blob), createWriteStream(out, { mode: 0o600 }));
  let count = 0;
  const add = (h: Partial<tar.Header> & { name: string }, body?: string | Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      count++;
      pack.entry({ uid: 0, gid: 0, uname: '', gname: '', mtime, ...h } as tar.Header, body ?? '', (e) => (e ? reject(e) : resolve()));
    });
  const links = new Map<string, string>();
  try {
    for (const { rel, abs, st } of entries) {
      const base = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
      if (st.isCharacterDevice() && st.rdev === 0) {
        await add({ name: path.posix.join(path.posix.dirname(rel), `.wh.${path.posix.basename(rel)}`), type: 'file', size: 0, mode: 0o644 });
        continue;
      }
      const pax = xattrsOf(abs);
      if (st.isDirectory()) {
        await add({ ...base, name: `${rel}/`, type: 'directory', pax });
        if (lgetxattr(abs, 'trusted.overlay.opaque')?.toString() === 'y') {
          await add({ name: `${rel}/.wh..wh..opq`, type: 'file', size: 0, mode: 0o644 });
        }
      } else if (st.isSymbolicLink()) {
        await add({ ...base, name: rel, type: 'symlink', linkname: readlinkSync(abs), pax });
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? links.get(key) : undefined;
        if (first) {
          await add({ ...base, name: rel, type: 'link', linkname: first });
          continue;
        }
        if (st.nlink > 1) links.set(key, rel);
        await new Promise<void>((resolve, reject) => {
          count++;
          const w = pack.entry({ uname: '', gname: '', mtime, ...base, name: rel, type: 'file', size: st.size, pax }, (e) => (e ? reject(e) : resolve()));
          createReadStream(abs).on('error', reject).pipe(w);
        });
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        const [devmajor, devminor] = majorMinor(st.rdev);
        await add({ ...base, name: rel, type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor, devminor });
      } else if (st.isFIFO()) {
        await add({ ...base, name: rel, type: 'fifo' });
      }
      // sockets are not content
    }
    pack.finalize();
    await written;
  } catch (e) {
    pack.destroy();
    await written.catch(() => undefined);
    if (e instanceof TscError) throw e;
    const err = e as NodeJS.ErrnoException;
    throw new TscError(err.code === 'ENOSPC' ? 'DISK_FULL' : 'BUILD_FAILED', `writing a layer from ${upper}: ${err.message}`, { cause: e });
  }
  return { file: out, diffId: `sha256:${diff.digest('hex')}`, digest: `sha256:${blob.digest('hex')}`, entries: count };
}
