/**
 * Reads a path of an image from its layer directories without mounting anything: the merged
 * view overlayfs would show (upper layers win, a 0/0 character device is a whiteout, the
 * trusted.overlay.opaque xattr hides lower layers below a directory), and copies a directory
 * of it out with ownership, modes, times, xattrs, symlinks, device nodes, fifos and hard links.
 * Used to populate a new volume with what the image has at its mount point, as Docker does.
 */
import { chmodSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, readdirSync, readlinkSync, symlinkSync, copyFileSync, type Stats } from 'node:fs';
import path from 'node:path';
import { TscError } from '../common/errors.js';
import { S_IFBLK, S_IFCHR, S_IFIFO, lgetxattr, llistxattr, lsetxattr, mknod } from './sys.js';

const MAX_SYMLINKS = 40;

function lstat(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

/** glibc's major()/minor() of a dev_t. */
function majorMinor(rdev: number): [number, number] {
  const d = BigInt(rdev);
  return [Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & ~0xfffn)), Number((d & 0xffn) | ((d >> 12n) & ~0xffn))];
}

const isWhiteout = (st: Stats): boolean => st.isCharacterDevice() && st.rdev === 0;
const isOpaque = (dir: string): boolean => lgetxattr(dir, 'trusted.overlay.opaque')?.toString() === 'y';

/** One name in a merged directory: the topmost entry and, for a directory, every layer's copy down to an opaque one. */
interface Merged {
  top: { path: string; st: Stats };
  dirs: string[];
}

/** Looks `name` up in a merged directory made of `layers` (top-most first). */
function lookup(layers: string[], name: string): Merged | undefined {
  let top: Merged['top'] | undefined;
  const dirs: string[] = [];
  for (const dir of layers) {
    const p = path.join(dir, name);
    const st = lstat(p);
    if (!st) continue;
    if (!top) {
      if (isWhiteout(st)) return undefined;
      top = { path: p, st };
      if (!st.isDirectory()) return { top, dirs };
    } else if (isWhiteout(st) || !st.isDirectory()) break; // hidden from here down
    dirs.push(p);
    if (isOpaque(p)) break;
  }
  return top ? { top, dirs } : undefined;
}

/**
 * The layer directories that make up `target` in the image (top-most first), or undefined when
 * the image has no directory there. Symlinks on the way are followed inside the image's root.
 */
export function imageDirLayers(lowerDirs: string[], target: string): string[] | undefined {
  let todo = target.split('/').filter((c) => c && c !== '.');
  let layers = lowerDirs;
  let done: string[] = [];
  let hops = 0;
  while (todo.length) {
    const name = todo.shift()!;
    if (name === '..') {
      done.pop();
      layers = done.length ? (imageDirLayers(lowerDirs, done.join('/')) ?? []) : lowerDirs;
      continue;
    }
    const m = lookup(layers, name);
    if (!m) return undefined;
    if (m.top.st.isSymbolicLink()) {
      if (++hops > MAX_SYMLINKS) return undefined;
      const link = readlinkSync(m.top.path);
      const rest = link.split('/').filter((c) => c && c !== '.');
      if (link.startsWith('/')) {
        done = [];
        layers = lowerDirs;
      }
      todo = [...rest, ...todo];
      continue;
    }
    if (!m.top.st.isDirectory()) return undefined;
    done.push(name);
    layers = m.dirs;
  }
  return layers;
}

/**
 * The entry at `target` in the image (symlinks followed in its parents, not in the last name):
 * the top-most layer's copy and its stat, and for a directory the layers that make it up.
 * Undefined when the image has nothing there.
 */
export function imageEntry(lowerDirs: string[], target: string): { path: string; st: Stats; layers: string[] } | undefined {
  const parts = target.split('/').filter((c) => c && c !== '.');
  if (parts.length === 0) {
    const st = lstat(lowerDirs[0] ?? '');
    return st ? { path: lowerDirs[0]!, st, layers: lowerDirs } : undefined;
  }
  const parent = imageDirLayers(lowerDirs, parts.slice(0, -1).join('/'));
  if (!parent) return undefined;
  const m = lookup(parent, parts[parts.length - 1]!);
  return m ? { path: m.top.path, st: m.top.st, layers: m.dirs } : undefined;
}

/** Owner, mode, xattrs and times of `src` onto `dest` (chown before chmod: chown clears setuid). */
function copyMeta(src: string, st: Stats, dest: string): void {
  lchownSync(dest, st.uid, st.gid);
  if (!st.isSymbolicLink()) chmodSync(dest, st.mode & 0o7777);
  for (const name of llistxattr(src)) {
    if (name.startsWith('trusted.overlay.')) continue;
    const v = lgetxattr(src, name);
    if (v) {
      try {
        lsetxattr(dest, name, v);
      } catch {
        /* a filesystem that refuses this xattr: Docker copies what it can too */
      }
    }
  }
  lutimesSync(dest, st.atime, st.mtime);
}

/**
 * Copies the image's directory at `target` into the existing empty directory `dest`, which takes
 * the owner and mode of the image's directory. Returns false (and copies nothing) when the
 * image has no directory at `target`.
 */
export function copyImageDir(lowerDirs: string[], target: string, dest: string): boolean {
  const layers = imageDirLayers(lowerDirs, target);
  if (!layers || layers.length === 0) return false;
  const links = new Map<string, string>(); // dev:ino of a multiply-linked file → its first copy
  const copyDir = (dirLayers: string[], out: string): void => {
    const names = new Set<string>();
    for (const d of dirLayers) for (const n of readdirSync(d)) names.add(n);
    for (const name of [...names].sort()) {
      const m = lookup(dirLayers, name);
      if (!m) continue;
      const { path: src, st } = m.top;
      const to = path.join(out, name);
      try {
        if (st.isDirectory()) {
          mkdirSync(to);
          copyDir(m.dirs, to);
          copyMeta(src, st, to); // after its content: writing into a directory changes its mtime
          continue;
        }
        if (st.isFile() && st.nlink > 1) {
          const key = `${st.dev}:${st.ino}`;
          const first = links.get(key);
          if (first) {
            linkSync(first, to);
            continue;
          }
          links.set(key, to);
        }
        if (st.isFile()) copyFileSync(src, to);
        else if (st.isSymbolicLink()) symlinkSync(readlinkSync(src), to);
        else if (st.isCharacterDevice()) mknod(to, S_IFCHR | (st.mode & 0o7777), ...majorMinor(st.rdev));
        else if (st.isBlockDevice()) mknod(to, S_IFBLK | (st.mode & 0o7777), ...majorMinor(st.rdev));
        else if (st.isFIFO()) mknod(to, S_IFIFO | (st.mode & 0o7777));
        else continue; // sockets are not content
        copyMeta(src, st, to);
      } catch (e) {
        if (e instanceof TscError) throw e;
        throw new TscError('ENGINE_SETUP', `copying ${path.join(target, name)} from the image into a new volume failed: ${(e as Error).message}`, { cause: e });
      }
    }
  };
  copyDir(layers, dest);
  const rootSrc = layers[0]!;
  copyMeta(rootSrc, lstatSync(rootSrc), dest);
  return true;
}
