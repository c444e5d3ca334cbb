/**
 * ADD of a local tar archive (plain, gzip) unpacks it into the destination, as Docker does:
 * the archive is extracted into the build's scratch directory (regular files, directories,
 * symlinks and hard links, owners and modes kept, nothing outside that directory) and the
 * source becomes that directory. bzip2 and xz archives are refused with a clear error.
 */
import {
  createReadStream,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  closeSync,
  symlinkSync,
  linkSync,
  lchownSync,
  chmodSync,
  createWriteStream,
} from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';

import { openContext, contextTree } from './context.js';
import type { CopySource } from './copy.js';
import type { LayerContext } from './layers.js';

export class ArchiveError extends Error {}

function head(file: string): Buffer {
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(512);
    const n = readSync(fd, b, 0, 512, 0);
    return b.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

function kindOf(file: string): 'tar' | 'gzip' | 'bzip2' | 'xz' | undefined {
  const h = head(file);
  if (h[0] === 0x1f && h[1] === 0x8b) return 'gzip';
  if (h.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (h.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (h.length >= 262 && h.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
  return undefined;
}

/** The path inside `root` a member names, or an error for one that escapes or passes through a symlink. */
function inside(root: string, name: string, archive: string): string {
  const rel = path.posix.normalize('/' + name).slice(1);
  if (rel.split('/').includes('..')) throw new ArchiveError(`${archive}: member "${name}" leaves the destination`);
  let cur = root;
  for (const c of rel.split('/').slice(0, -1).filter(Boolean)) {
    cur = path.join(cur, c);
    const st = lstatSync(cur, { throwIfNoEntry: false });
    if (!st) mkdirSync(cur);
    else if (!st.isDirectory()) throw new ArchiveError(`${archive}: member "${name}" passes through "${c}", which is not a directory`);
  }
  return path.join(root, rel);
}

/** When `src` is a tar archive, extracts it and turns the source into the extracted directory. */
export async function unpackIfArchive(c: LayerContext, src: CopySource): Promise<void> {
  if (!src.top.st.isFile()) return;
  const kind = kindOf(src.top.abs);
  if (!kind) return;
  if (kind === 'bzip2' || kind === 'xz')
    throw new ArchiveError(`${src.top.rel} is a ${kind} archive: tscompose's ADD unpacks plain and gzipped tar archives only`);
  const dir = path.join(c.scratchDir, `add-${c.seq()}`);
  mkdirSync(dir);
  const ex = tar.extract();
  const done = (async () => {
    for await (const e of ex) {
      const h = e.header;
      const to = h.name.replace(/\/+$/, '') === '' || h.name === './' ? dir : inside(dir, h.name, src.top.rel);
      if (h.type === 'directory') {
        if (to !== dir && !lstatSync(to, { throwIfNoEntry: false })) mkdirSync(to);
      } else if (h.type === 'file' || h.type === 'contiguous-file') {
        await pipeline(e, createWriteStream(to, { mode: 0o600 }));
      } else if (h.type === 'symlink') symlinkSync(h.linkname ?? '', to);
      else if (h.type === 'link') linkSync(inside(dir, h.linkname ?? '', src.top.rel), to);
      else {
        e.resume();
        continue; // devices and fifos are not unpacked by ADD here
      }
      if (h.type !== 'link') {
        lchownSync(to, h.uid ?? 0, h.gid ?? 0);
        if (h.type !== 'symlink') chmodSync(to, (h.mode ?? 0o644) & 0o7777);
      }
      e.resume();
    }
  })();
  let input: Readable = createReadStream(src.top.abs);
  if (kind === 'gzip') input = input.pipe(createGunzip());
  try {
    await Promise.all([pipeline(input, ex), done]);
  } catch (e) {
    if (e instanceof ArchiveError) throw e;
    throw new ArchiveError(`${src.top.rel}: cannot unpack the archive: ${(e as Error).message}`);
  }
  const ctx = openContext(dir, []);
  src.top = { rel: '', abs: dir, st: lstatSync(dir) };
  src.tree = contextTree(ctx, '');
  src.keepOwner = true;
}
