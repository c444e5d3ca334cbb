/**
 * Canonical mounts: `volumes` (short "src:dst[:mode]" or long form; host paths absolute, targets
 * cleaned as Go's path.Clean) and the service `tmpfs:` strings.
 */
import path from 'node:path';

import {
  bool,
  bytes,
  isObj,
  rawKept,
  resolveHostPath,
  specError,
  strings,
  type CanonContext,
  type Obj,
  type Path,
  type Transformer,
} from './canonical-values.js';
import { parseBytes } from './units.js';

/** Go's path.Clean on a container path: `/var/www/html/` → `/var/www/html`, `/a//b/../c` → `/a/c` (Compose cleans volume targets). */
function cleanContainerPath(p: string): string {
  const n = path.posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

function isHostPathLike(src: string): boolean {
  return src.startsWith('.') || src.startsWith('/') || src.startsWith('~') || src.includes('/');
}

/** One short-syntax volume ("src:dst[:mode]", "dst") → long form. */
function parseVolumeShort(raw: string, ctx: CanonContext, p: Path): Obj {
  const parts = raw.split(':');
  if (parts.length > 1 && parts.some((x) => x === '')) {
    throw specError(
      ctx,
      p,
      `invalid volume ${JSON.stringify(raw)}: empty section between colons`,
      'a variable used in it may be unset or empty; write [SOURCE:]CONTAINER_PATH[:MODE]',
    );
  }
  let source: string | undefined;
  let target: string;
  let mode: string | undefined;
  if (parts.length === 1) {
    target = parts[0];
  } else if (parts.length === 2) {
    if (parts[1].startsWith('/')) [source, target] = parts;
    else throw specError(ctx, p, `invalid volume ${JSON.stringify(raw)}: the container path must be absolute`);
  } else if (parts.length === 3) {
    [source, target, mode] = parts;
  } else {
    throw specError(ctx, p, `invalid volume ${JSON.stringify(raw)}`, 'write [SOURCE:]CONTAINER_PATH[:MODE], e.g. ./data:/data:ro');
  }
  if (!target.startsWith('/')) throw specError(ctx, p, `invalid volume ${JSON.stringify(raw)}: the container path must be absolute`);
  const out: Obj = {};
  if (source === undefined || source === '') {
    out.type = 'volume';
  } else if (isHostPathLike(source)) {
    out.type = 'bind';
    out.source = resolveHostPath(source, ctx);
  } else {
    out.type = 'volume';
    out.source = source;
  }
  out.target = cleanContainerPath(target);
  let readOnly = false;
  const bind: Obj = {};
  const volume: Obj = {};
  for (const opt of (mode ?? '').split(',').filter(Boolean)) {
    if (opt === 'ro') readOnly = true;
    else if (opt === 'rw') readOnly = false;
    else if (opt === 'nocopy') volume.nocopy = true;
    else if (opt === 'z' || opt === 'Z') bind.selinux = opt;
    else if (['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate'].includes(opt)) bind.propagation = opt;
    else if (opt === 'cached' || opt === 'delegated' || opt === 'consistent') out.consistency = opt;
    else
      throw specError(
        ctx,
        p,
        `unknown volume option ${JSON.stringify(opt)} in ${JSON.stringify(raw)}`,
        'options are ro, rw, nocopy, z, Z, shared, slave, private (and their r- forms)',
      );
  }
  out.read_only = readOnly;
  if (out.type === 'bind') out.bind = { create_host_path: true, ...bind };
  else if (Object.keys(bind).length > 0) throw specError(ctx, p, `bind options used on a named volume in ${JSON.stringify(raw)}`);
  if (out.type === 'volume') out.volume = { nocopy: volume.nocopy === true };
  return out;
}

function volumeLong(v: Obj, ctx: CanonContext, p: Path): Obj {
  const type = String(v.type);
  if (v.target === undefined) throw specError(ctx, p, `a ${type} mount needs "target" (the container path)`);
  const target = String(v.target);
  if (!target.startsWith('/') && type !== 'npipe') throw specError(ctx, [...p, 'target'], `the container path must be absolute: ${JSON.stringify(target)}`);
  const out: Obj = { type };
  if (v.source !== undefined && v.source !== '') {
    if (type === 'tmpfs') throw specError(ctx, [...p, 'source'], 'a tmpfs mount takes no source');
    out.source = type === 'bind' ? resolveHostPath(String(v.source), ctx) : String(v.source);
  } else if (type === 'bind') {
    throw specError(ctx, p, 'a bind mount needs "source" (the host path)');
  }
  out.target = type === 'npipe' || rawKept(target, ctx) ? target : cleanContainerPath(target);
  out.read_only = v.read_only === undefined ? false : bool(v.read_only, ctx, [...p, 'read_only']);
  if (v.consistency !== undefined) out.consistency = v.consistency;
  if (type === 'bind') {
    const b = isObj(v.bind) ? v.bind : {};
    // Long syntax does not create a missing host path unless asked (Compose's default).
    // absent `bind:` = no create (Compose's long-syntax default); a `bind:` mapping without
    // create_host_path gets true, as compose-go's defaultVolumeBind does
    const nb: Obj = { create_host_path: b.create_host_path === undefined ? isObj(v.bind) : bool(b.create_host_path, ctx, [...p, 'bind', 'create_host_path']) };
    for (const k of ['propagation', 'recursive', 'selinux']) if (b[k] !== undefined) nb[k] = b[k];
    out.bind = nb;
  } else if (v.bind !== undefined) {
    throw specError(ctx, [...p, 'bind'], `"bind" options only apply to type: bind (this mount is type: ${type})`);
  }
  if (type === 'volume') {
    const vo = isObj(v.volume) ? v.volume : {};
    const nv: Obj = { nocopy: vo.nocopy === undefined ? false : bool(vo.nocopy, ctx, [...p, 'volume', 'nocopy']) };
    if (vo.subpath !== undefined) nv.subpath = vo.subpath;
    out.volume = nv;
  } else if (v.volume !== undefined) {
    throw specError(ctx, [...p, 'volume'], `"volume" options only apply to type: volume (this mount is type: ${type})`);
  }
  if (type === 'tmpfs') {
    const t = isObj(v.tmpfs) ? v.tmpfs : {};
    const nt: Obj = {};
    if (t.size !== undefined) nt.size = bytes(t.size, ctx, [...p, 'tmpfs', 'size']);
    if (t.mode !== undefined) {
      // Modes are octal as written ("1777" or 1777 both mean 0o1777).
      const text = String(t.mode);
      const m = /^0?o?[0-7]+$/.test(text) ? parseInt(text.replace(/^0?o/, ''), 8) : NaN;
      if (!Number.isInteger(m)) throw specError(ctx, [...p, 'tmpfs', 'mode'], `expected an octal file mode, got ${JSON.stringify(t.mode)}`);
      nt.mode = m;
    }
    out.tmpfs = nt;
  } else if (v.tmpfs !== undefined) {
    throw specError(ctx, [...p, 'tmpfs'], `"tmpfs" options only apply to type: tmpfs (this mount is type: ${type})`);
  }
  if (type === 'image' && isObj(v.image)) out.image = v.image;
  for (const [k, val] of Object.entries(v)) if (k.startsWith('x-')) out[k] = val;
  return out;
}

export interface TmpfsEntry {
  target: string;
  /** bytes */
  size?: number;
  mode?: number;
  /** other mount options as written (uid=, gid=, noexec, ...) */
  options: string[];
}

/**
 * Parses one entry of the service `tmpfs:` key ("/run" or "/run:size=64m,mode=1777,noexec").
 * Returns an error message for a malformed entry.
 */
export function parseTmpfsEntry(text: string): TmpfsEntry | string {
  const colon = text.indexOf(':');
  const target = colon < 0 ? text : text.slice(0, colon);
  if (!target.startsWith('/')) return `a tmpfs mount point must be an absolute path, got ${JSON.stringify(target)}`;
  const out: TmpfsEntry = { target, options: [] };
  if (colon < 0) return out;
  for (const opt of text
    .slice(colon + 1)
    .split(',')
    .filter(Boolean)) {
    const [k, val] = opt.split('=', 2);
    if (k === 'size') {
      const b = val === undefined ? undefined : parseBytes(val);
      if (b === undefined) return `invalid tmpfs size ${JSON.stringify(val ?? '')} in ${JSON.stringify(text)}`;
      out.size = b;
    } else if (k === 'mode') {
      if (val === undefined || !/^[0-7]{1,4}$/.test(val))
        return `invalid tmpfs mode ${JSON.stringify(val ?? '')} in ${JSON.stringify(text)} (octal, e.g. 1777)`;
      out.mode = parseInt(val, 8);
    } else if (
      ['uid', 'gid', 'nr_inodes', 'nr_blocks'].includes(k)
        ? val !== undefined && /^\d+[kmg]?$/i.test(val)
        : ['ro', 'rw', 'noexec', 'exec', 'nosuid', 'suid', 'nodev', 'dev', 'noatime', 'atime', 'relatime', 'strictatime', 'nodiratime', 'diratime'].includes(
            opt,
          )
    ) {
      out.options.push(opt);
    } else {
      return `unknown tmpfs option ${JSON.stringify(opt)} in ${JSON.stringify(text)}`;
    }
  }
  return out;
}

export const VOLUME_TRANSFORMERS: Record<string, Transformer> = {
  volumes: (v, ctx, p) =>
    (v as unknown[]).map((e, i) => (isObj(e) ? volumeLong(e, ctx, [...p, i]) : rawKept(e, ctx) ? e : parseVolumeShort(String(e), ctx, [...p, i]))),
  tmpfs: (v, ctx, p) => {
    const list = strings(v);
    list.forEach((t, i) => {
      if (!rawKept(t, ctx)) {
        const r = parseTmpfsEntry(t);
        if (typeof r === 'string') throw specError(ctx, Array.isArray(v) ? [...p, i] : p, r, 'write /path or /path:size=64m,mode=1777');
      }
    });
    return list;
  },
};
