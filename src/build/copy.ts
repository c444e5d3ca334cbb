/**
 * COPY (and ADD of local files): the sources become a list of items, each a path in the image
 * with its type, mode and owner, hashed for the step cache (names, modes, ownership, contents;
 * never mtimes), then written into an empty directory in overlayfs upper form: the parents of
 * each destination take the owner and mode the image already gives them, so the layer changes
 * nothing but what was copied.
 */
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, createReadStream, lchownSync, lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';

import { imageEntry } from '../images/index.js';
import type { Source } from './context.js';

export interface CopyItem {
  /** absolute path in the image */
  dest: string;
  kind: 'dir' | 'file' | 'symlink';
  src?: string;
  link?: string;
  mode: number;
  uid: number;
  gid: number;
}

export interface CopySource {
  /** the named path and, for a directory, what is below it (parents first) */
  top: Source;
  tree: Source[];
  /** keep the owners of the files (an archive ADD unpacks), whatever the plan says */
  keepOwner?: boolean;
}

export interface CopyPlan {
  /** destination as written, substituted */
  dest: string;
  workdir: string;
  sources: CopySource[];
  chown?: { uid: number; gid: number };
  chmod?: number;
  /** sources from the context are owned by root; from a stage or image they keep their owner */
  keepOwner: boolean;
  lowerDirs: string[];
}

/** Whether `dest` names a directory: written with a trailing slash, or one in the image. */
function destIsDir(p: CopyPlan, abs: string): boolean {
  if (p.dest.endsWith('/') || p.dest === '.' || p.dest.endsWith('/.')) return true;
  const e = imageEntry(p.lowerDirs, abs);
  return !!e && e.st.isDirectory();
}

export function planCopy(p: CopyPlan): CopyItem[] {
  const abs = path.posix.resolve(p.workdir || '/', p.dest);
  const asDir = p.sources.length > 1 || destIsDir(p, abs);
  const items: CopyItem[] = [];
  let keep = p.keepOwner;
  const owner = (s: Source) => p.chown ?? (keep ? { uid: s.st.uid, gid: s.st.gid } : { uid: 0, gid: 0 });
  const item = (s: Source, dest: string): CopyItem => {
    const kind = s.st.isDirectory() ? 'dir' : s.st.isSymbolicLink() ? 'symlink' : 'file';
    const mode = p.chmod !== undefined && kind !== 'symlink' ? p.chmod : s.st.mode & 0o7777;
    return { dest, kind, src: s.abs, link: kind === 'symlink' ? readlinkSync(s.abs) : undefined, mode, ...owner(s) };
  };
  for (const s of p.sources) {
    keep = s.keepOwner ?? p.keepOwner;
    if (s.top.st.isDirectory()) {
      // a directory's content goes into the destination, not the directory itself
      if (!imageEntry(p.lowerDirs, abs)) items.push({ dest: abs, kind: 'dir', mode: p.chmod ?? 0o755, ...(p.chown ?? { uid: 0, gid: 0 }) });
      for (const e of s.tree) items.push(item(e, path.posix.join(abs, path.posix.relative(s.top.rel, e.rel))));
      continue;
    }
    items.push(item(s.top, asDir ? path.posix.join(abs, path.posix.basename(s.top.rel)) : abs));
  }
  return items;
}

/** The cache key part of a COPY: what it writes, with the sha256 of each file's content. */
export async function hashCopy(items: CopyItem[]): Promise<string> {
  const h = createHash('sha256');
  for (const it of items) {
    let content = '';
    if (it.kind === 'file' && it.src) {
      const fh = createHash('sha256');
      for await (const c of createReadStream(it.src)) fh.update(c as Buffer);
      content = fh.digest('hex');
    }
    h.update(JSON.stringify([it.dest, it.kind, it.mode, it.uid, it.gid, it.link ?? '', content]) + '\n');
  }
  return h.digest('hex');
}

/** Creates the parents of `dest` in `upper` with the owner and mode the image gives them. */
function ensureParents(upper: string, dest: string, lowerDirs: string[]): void {
  const parts = path.posix.dirname(dest).split('/').filter(Boolean);
  let cur = '';
  for (const c of parts) {
    cur = `${cur}/${c}`;
    const at = path.join(upper, cur);
    if (lstatSync(at, { throwIfNoEntry: false })) continue;
    mkdirSync(at);
    const e = imageEntry(lowerDirs, cur);
    const st = e?.st.isDirectory() ? e.st : undefined;
    lchownSync(at, st?.uid ?? 0, st?.gid ?? 0);
    chmodSync(at, st ? st.mode & 0o7777 : 0o755);
  }
}

/** Writes the items into `upper` (an empty directory that becomes the step's layer). */
export function applyCopy(upper: string, items: CopyItem[], lowerDirs: string[]): void {
  for (const it of items) {
    ensureParents(upper, it.dest, lowerDirs);
    const at = path.join(upper, it.dest);
    const old = lstatSync(at, { throwIfNoEntry: false });
    if (it.kind === 'dir') {
      if (old && !old.isDirectory()) rmSync(at, { force: true });
      if (!old || !old.isDirectory()) mkdirSync(at);
    } else {
      if (old) rmSync(at, { recursive: true, force: true });
      if (it.kind === 'file') copyFileSync(it.src!, at);
      else symlinkSync(it.link!, at);
    }
    lchownSync(at, it.uid, it.gid);
    if (it.kind !== 'symlink') chmodSync(at, it.mode);
  }
}
