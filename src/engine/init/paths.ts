/**
 * Path resolution inside a container root that is not the process root yet: every symlink
 * is resolved relative to `root`, so an image cannot point a mount target at the host; and
 * mounting on exactly the object resolved (`atTarget`), so a symlink swapped into the path
 * afterwards (CVE-2021-30465: a volume shared with a running container) cannot redirect it.
 */
import { fstatSync, lstatSync, mkdirSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { E, hasErrno } from '../../sys/libc.js';
import { O_CLOEXEC, O_NOFOLLOW, O_PATH, close, open } from '../../sys/syscalls.js';
import { StepError } from './step.js';

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
      let link: string;
      try {
        link = readlinkSync(cur);
      } catch (e) {
        // swapped for a non-link since the lstat: look at this segment again
        if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
        parts.unshift(seg);
        continue;
      }
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

/**
 * Opens `hostPath` (resolved inside `root`) without following a final symlink, checks that the
 * object opened lies inside `root`, and runs `fn` with its /proc/self/fd path: a mount on that
 * path lands on exactly the object checked, whatever is renamed or swapped in the meantime.
 */
export function atTarget<T>(root: string, hostPath: string, fn: (fdPath: string) => T): T {
  const realRoot = realpathSync(root);
  let fd: number;
  try {
    fd = open(hostPath, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0, `open mount target ${hostPath}`);
  } catch (e) {
    if (!hasErrno(e, E.ENOENT) && !hasErrno(e, E.ENOTDIR) && !hasErrno(e, E.ELOOP)) throw e;
    throw new StepError('volumes', `mount target ${hostPath} changed while the container was being set up: refusing to mount`);
  }
  try {
    const real = readlinkSync(`/proc/self/fd/${fd}`);
    if (fstatSync(fd).isSymbolicLink() || !(real === realRoot || real.startsWith(realRoot + '/'))) {
      throw new StepError(
        'volumes',
        `mount target ${hostPath} changed while the container was being set up (now ${real}): refusing to mount outside the container's root`,
      );
    }
    return fn(`/proc/self/fd/${fd}`);
  } finally {
    close(fd);
  }
}
