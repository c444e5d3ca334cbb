/**
 * Path resolution inside a container root that is not the process root yet: every symlink
 * is resolved relative to `root`, so an image cannot point a mount target at the host.
 */
import { lstatSync, mkdirSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Resolves `p` (absolute inside the container) to a host path under `root`, following symlinks within root. */
export function resolveInRoot(root: string, p: string): string {
  const parts = p.split('/').filter((s) => s && s !== '.');
  const out: string[] = [];
  let hops = 0;
  while (parts.length) {
    const seg = parts.shift()!;
    if (seg === '..') {
      out.pop();
      continue;
    }
    const cur = path.join(root, ...out, seg);
    let st;
    try {
      st = lstatSync(cur);
    } catch {
      out.push(seg);
      continue;
    }
    if (st.isSymbolicLink()) {
      if (++hops > 40) throw Object.assign(new Error(`too many symlinks resolving ${p}`), { code: 'ELOOP' });
      const link = readlinkSync(cur);
      const rest = link.split('/').filter((s) => s && s !== '.');
      if (link.startsWith('/')) out.length = 0;
      parts.unshift(...rest);
      continue;
    }
    out.push(seg);
  }
  return path.join(root, ...out);
}

/** Creates a mount target inside root (a directory, or an empty file when `file`) and returns its host path. */
export function makeTarget(root: string, p: string, file: boolean): string {
  const target = resolveInRoot(root, p);
  let exists = true;
  try {
    lstatSync(target);
  } catch {
    exists = false;
  }
  if (!exists) {
    const parent = resolveInRoot(root, path.posix.dirname(p));
    mkdirInRoot(root, path.relative(root, parent));
    if (file) writeFileSync(target, '', { mode: 0o644 });
    else mkdirSync(target, { mode: 0o755 });
  }
  return target;
}

function mkdirInRoot(root: string, rel: string): void {
  let cur = '';
  for (const seg of rel.split('/').filter(Boolean)) {
    cur = cur ? `${cur}/${seg}` : seg;
    const real = resolveInRoot(root, '/' + cur);
    try {
      lstatSync(real);
    } catch {
      mkdirSync(real, { mode: 0o755 });
    }
    cur = path.relative(root, real);
  }
}
