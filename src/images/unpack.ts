/**
 * Unpacks one layer (gzip or plain tar) into its own directory, in the form overlayfs wants for
 * a lower layer: `.wh.NAME` becomes a 0/0 character device, `.wh..wh..opq` becomes the
 * trusted.overlay.opaque="y" xattr on its directory. Every entry is checked so that nothing can
 * land outside the layer directory: no absolute paths, no `..`, and no path that passes through a
 * symlink (the only symlinks present are the ones this layer created, and they are never
 * followed). The digest of the uncompressed stream (the diff_id) is computed on the way.
 */
import { createHash } from 'node:crypto';
import {
  createReadStream,
  lstatSync,
  openSync,
  closeSync,
  mkdirSync,
  rmSync,
  writeSync,
  symlinkSync,
  linkSync,
  lchownSync,
  chmodSync,
  lutimesSync,
  utimesSync,
  statfsSync,
} from 'node:fs';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';

import { TscError } from '../common/errors.js';
import { fsFailure } from './errors.js';
import { readTar, TarFormatError, type TarEntry } from './tar.js';
import { mknod, lsetxattr, S_IFCHR, S_IFBLK, S_IFIFO } from './sys.js';

export interface UnpackResult {
  /** "sha256:<hex>" of the uncompressed tar stream */
  diffId: string;
  /** bytes of regular file content written */
  size: number;
}

const WH_PREFIX = '.wh.';
const WH_OPAQUE = '.wh..wh..opq';

export type Compression = 'gzip' | 'none' | 'zstd';

export function detectCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

/** True when the filesystem holding `dir` has (almost) no space left for us. */
function diskFull(dir: string): boolean {
  try {
    const st = statfsSync(dir);
    return st.bavail * st.bsize < 64 * 1024;
  } catch {
    return false;
  }
}

function unsafe(what: string, entry: string, why: string): TscError {
  return new TscError('IMAGE_UNSAFE', `${what}: entry "${entry}" ${why}; refusing to unpack it`, {
    hint: 'the image is malformed or malicious; nothing outside the layer directory was written',
  });
}

/** Splits an archive path into safe components, or throws IMAGE_UNSAFE. */
export function components(p: string, what: string): string[] {
  if (p.startsWith('/')) throw unsafe(what, p, 'is an absolute path');
  const parts = p.split('/').filter((c) => c !== '' && c !== '.');
  if (parts.some((c) => c === '..')) throw unsafe(what, p, 'climbs out of the layer with ".."');
  if (parts.some((c) => c.includes('\0'))) throw unsafe(what, p, 'contains a NUL byte');
  return parts;
}

async function* hashing(src: AsyncIterable<Buffer>, h: ReturnType<typeof createHash>): AsyncGenerator<Buffer> {
  for await (const c of src) {
    h.update(c);
    yield c;
  }
}

const IGNORED_XATTRS = (name: string): boolean => name.startsWith('trusted.overlay.') || name === 'security.selinux';

/**
 * Unpacks the layer blob at `blobPath` into the existing empty directory `dest`.
 * `what` names the layer in error messages ("layer sha256:… of docker.io/library/busybox:latest").
 */
export async function unpackLayer(input: string | AsyncIterable<Buffer>, dest: string, what: string): Promise<UnpackResult> {
  const raw: AsyncIterable<Buffer> = typeof input === 'string' ? createReadStream(input, { highWaterMark: 256 * 1024 }) : input;
  const it = raw[Symbol.asyncIterator]();
  let first: IteratorResult<Buffer>;
  try {
    first = await it.next();
  } catch (e) {
    throw fsFailure(e, `reading ${what}`);
  }
  const head = first.done ? Buffer.alloc(0) : first.value;
  const compression = detectCompression(head);
  if (compression === 'zstd') {
    await it.return?.();
    throw new TscError('IMAGE_ARCHIVE', `${what} is zstd-compressed, which tscompose cannot unpack`, {
      hint: 'use an image whose layers are gzip-compressed or uncompressed tar',
    });
  }
  async function* all(): AsyncGenerator<Buffer> {
    if (first.done) return;
    yield head;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  }
  let stream: Readable = Readable.from(all(), { objectMode: false });
  if (compression === 'gzip') {
    const src = stream;
    stream = src.pipe(createGunzip());
    src.on('error', (e) => stream.destroy(e));
  }
  const h = createHash('sha256');
  const dirs: { p: string; entry: TarEntry }[] = [];
  const safeDirs = new Set<string>(['']);
  let size = 0;

  /** Makes sure every parent of `parts` is a real directory inside dest (never a symlink). */
  const ensureParents = async (parts: string[], entryName: string): Promise<string> => {
    let rel = '';
    for (let i = 0; i < parts.length - 1; i++) {
      rel = rel ? `${rel}/${parts[i]}` : parts[i];
      if (safeDirs.has(rel)) continue;
      const abs = path.join(dest, rel);
      let st;
      try {
        st = lstatSync(abs);
      } catch {
        st = undefined;
      }
      if (!st) mkdirSync(abs, { mode: 0o755 });
      else if (st.isSymbolicLink()) throw unsafe(what, entryName, `passes through the symlink "${rel}"`);
      else if (!st.isDirectory()) {
        throw new TscError('IMAGE_ARCHIVE', `${what}: entry "${entryName}" needs "${rel}" to be a directory but it is a file`);
      }
      safeDirs.add(rel);
    }
    return path.join(dest, ...parts);
  };

  /** Removes whatever is at abs (unless both are directories), forgetting cached dir checks. */
  const clear = async (abs: string, rel: string, keepDir: boolean): Promise<boolean> => {
    let st;
    try {
      st = lstatSync(abs);
    } catch {
      return false;
    }
    if (keepDir && st.isDirectory()) return true;
    rmSync(abs, { recursive: true, force: true });
    for (const d of safeDirs) if (d === rel || d.startsWith(`${rel}/`)) safeDirs.delete(d);
    return false;
  };

  try {
    for await (const { entry, body } of readTar(hashing(stream, h))) {
      const parts = components(entry.path, what);
      const base = parts[parts.length - 1] ?? '';
      if (base.startsWith(WH_PREFIX)) {
        const dirParts = parts.slice(0, -1);
        if (base === WH_OPAQUE) {
          const dirAbs = await ensureParents([...dirParts, '_'], entry.path).then(() => path.join(dest, ...dirParts));
          if (dirParts.length > 0) {
            const st = lstatSync(dirAbs, { throwIfNoEntry: false });
            if (!st) mkdirSync(dirAbs, { mode: 0o755 });
            else if (!st.isDirectory()) {
              await clear(dirAbs, dirParts.join('/'), false);
              mkdirSync(dirAbs, { mode: 0o755 });
            }
          }
          lsetxattr(dirAbs, 'trusted.overlay.opaque', Buffer.from('y'));
        } else if (!base.startsWith(`${WH_PREFIX}${WH_PREFIX}`)) {
          const name = base.slice(WH_PREFIX.length);
          if (name === '' || name === '..' || name === '.') throw unsafe(what, entry.path, 'is a whiteout for an invalid name');
          const target = await ensureParents([...dirParts, name], entry.path);
          await clear(target, [...dirParts, name].join('/'), false);
          mknod(target, S_IFCHR | 0o000, 0, 0);
        }
        continue;
      }
      if (parts.length === 0) {
        // the layer root itself ("./"): keep its metadata for the container's "/"
        if (entry.type === 'dir') dirs.push({ p: dest, entry });
        continue;
      }
      const abs = await ensureParents(parts, entry.path);
      const rel = parts.join('/');
      const existingDir = await clear(abs, rel, entry.type === 'dir');
      switch (entry.type) {
        case 'dir':
          if (!existingDir) mkdirSync(abs, { mode: 0o700 });
          dirs.push({ p: abs, entry });
          break;
        case 'file': {
          // synchronous writes: they land in the page cache, and the thread pool stays free for
          // the decompression and the downloads running alongside
          const fd = openSync(abs, 'wx', 0o600);
          try {
            for await (const c of body) {
              let off = 0;
              while (off < c.length) off += writeSync(fd, c, off, c.length - off);
            }
          } finally {
            closeSync(fd);
          }
          size += entry.size;
          break;
        }
        case 'symlink':
          symlinkSync(entry.linkname, abs);
          break;
        case 'hardlink': {
          const lparts = components(entry.linkname.replace(/^\/+/, ''), what);
          if (lparts.length === 0) throw unsafe(what, entry.path, 'is a hard link to the layer root');
          const src = await ensureParents(lparts, entry.linkname);
          const st = lstatSync(src, { throwIfNoEntry: false });
          if (!st) {
            throw new TscError('IMAGE_ARCHIVE', `${what}: hard link "${entry.path}" points at "${entry.linkname}", which is not in this layer`);
          }
          if (st.isDirectory()) throw unsafe(what, entry.path, 'is a hard link to a directory');
          linkSync(src, abs);
          continue; // a hard link shares the target's metadata
        }
        case 'char':
          mknod(abs, S_IFCHR | entry.mode, entry.devmajor, entry.devminor);
          break;
        case 'block':
          mknod(abs, S_IFBLK | entry.mode, entry.devmajor, entry.devminor);
          break;
        case 'fifo':
          mknod(abs, S_IFIFO | entry.mode, 0, 0);
          break;
      }
      lchownSync(abs, entry.uid, entry.gid);
      if (entry.type !== 'symlink') chmodSync(abs, entry.mode);
      for (const [name, value] of entry.xattrs) {
        if (!IGNORED_XATTRS(name)) lsetxattr(abs, name, value);
      }
      if (entry.type !== 'dir') lutimesSync(abs, entry.mtime, entry.mtime);
    }
    // directory metadata last, deepest first, so creating children does not change it
    for (let i = dirs.length - 1; i >= 0; i--) {
      const { p, entry } = dirs[i];
      // a later entry may have replaced the directory (even with a symlink): never follow it
      if (!lstatSync(p, { throwIfNoEntry: false })?.isDirectory()) continue;
      lchownSync(p, entry.uid, entry.gid);
      chmodSync(p, entry.mode);
      for (const [name, value] of entry.xattrs) {
        if (!IGNORED_XATTRS(name)) lsetxattr(p, name, value);
      }
      utimesSync(p, entry.mtime, entry.mtime);
    }
  } catch (e) {
    stream.destroy();
    if (e instanceof TarFormatError) {
      throw new TscError('IMAGE_ARCHIVE', `${what} is not a valid tar archive: ${e.message}`, { cause: e });
    }
    const z = e as NodeJS.ErrnoException;
    if (z?.code?.startsWith?.('Z_')) {
      // a full disk can stop the bytes that feed the decompressor (the blob being written beside
      // the unpack), which then sees a truncated stream: the full disk is the cause to report
      if (diskFull(dest)) throw fsFailure(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }), `unpacking ${what}`);
      throw new TscError('IMAGE_ARCHIVE', `${what} is not valid gzip data: ${z.message}`, { cause: e });
    }
    throw fsFailure(e, `unpacking ${what}`);
  }
  // the root directory is created by the caller with default metadata; only entries set it
  return { diffId: `sha256:${h.digest('hex')}`, size };
}
