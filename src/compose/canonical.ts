/**
 * Short syntax → long syntax, once, per file (after validation, before merging), so that
 * merging and everything later only ever see the long form. Relative host paths are made
 * absolute against `baseDir` here too.
 */
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { CAPABILITY_NAMES } from '../common/capabilities.js';

import { TscError } from '../common/errors.js';
import { formatPath, nearest, type SourceMap } from './position.js';
import { splitShellWords } from './shell.js';
import { isIntString, parseBytes, parseDuration, toBoolean } from './units.js';
import { Tagged } from './yaml.js';

type Path = (string | number)[];
type Obj = Record<string, unknown>;

export interface CanonContext {
  /** directory relative paths are resolved against */
  baseDir: string;
  file: string;
  positions: SourceMap;
  env: (name: string) => string | undefined;
  /** --no-interpolate: values still holding a `$` expression are kept as written */
  raw?: boolean;
  /** --no-path-resolution: host paths are kept as written */
  keepPaths?: boolean;
}

/** In raw mode a typed value still holding a variable is kept as its text. */
function rawKept(v: unknown, ctx: CanonContext): boolean {
  return ctx.raw === true && typeof v === 'string' && v.includes('$');
}

export function specError(ctx: { file: string; positions: SourceMap }, p: Path, msg: string, hint?: string): TscError {
  const pos = ctx.positions.find(p);
  const where = pos ? `${pos.file}:${pos.line}:${pos.col}` : ctx.file;
  return new TscError('SPEC_INVALID', `${where}: ${formatPath(p)}: ${msg}`, { hint });
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Tagged);
}

export function resolveHostPath(p: string, ctx: CanonContext): string {
  if (ctx.keepPaths) return p;
  if (p === '~' || p.startsWith('~/')) {
    const home = ctx.env('HOME') ?? os.homedir();
    return path.join(home, p.slice(1));
  }
  return path.resolve(ctx.baseDir, p);
}

function bool(v: unknown, ctx: CanonContext, p: Path): boolean {
  if (rawKept(v, ctx)) return v as unknown as boolean;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const b = toBoolean(v);
    if (b !== undefined) return b;
  }
  throw specError(ctx, p, `expected a boolean (true/false), got ${JSON.stringify(v)}`);
}

function int(v: unknown, ctx: CanonContext, p: Path): number {
  if (rawKept(v, ctx)) return v as unknown as number;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && isIntString(v)) return Number(v);
  throw specError(ctx, p, `expected an integer, got ${JSON.stringify(v)}`);
}

function num(v: unknown, ctx: CanonContext, p: Path): number {
  if (rawKept(v, ctx)) return v as unknown as number;
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  throw specError(ctx, p, `expected a number, got ${JSON.stringify(v)}`);
}

function bytes(v: unknown, ctx: CanonContext, p: Path): number {
  if (rawKept(v, ctx)) return v as unknown as number;
  const b = typeof v === 'string' || typeof v === 'number' ? parseBytes(v) : undefined;
  if (b === undefined) throw specError(ctx, p, `expected a size such as 512m or 1g, got ${JSON.stringify(v)}`);
  return b;
}

function duration(v: unknown, ctx: CanonContext, p: Path): number {
  if (rawKept(v, ctx)) return v as unknown as number;
  const d = typeof v === 'string' || typeof v === 'number' ? parseDuration(v) : undefined;
  if (d === undefined) throw specError(ctx, p, `expected a duration such as 10s or 1m30s, got ${JSON.stringify(v)}`);
  return d;
}

function scalarString(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return String(v);
}

/** list (KEY=VAL / KEY) or mapping → mapping of strings (null when declared without value). */
export function listOrDict(v: unknown, ctx: CanonContext, p: Path, sep = '='): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (Array.isArray(v)) {
    v.forEach((item, i) => {
      const s = String(item);
      const at = s.indexOf(sep);
      if (at === 0) throw specError(ctx, [...p, i], `an entry must start with a name: ${JSON.stringify(s)}`);
      if (at < 0) out[s] = null;
      else out[s.slice(0, at)] = s.slice(at + 1);
    });
  } else if (isObj(v)) {
    for (const [k, val] of Object.entries(v)) out[k] = scalarString(val);
  }
  return out;
}

function strings(v: unknown): string[] {
  if (v === null || v === undefined) return [];
  return Array.isArray(v) ? v.map(String) : [String(v)];
}

function commandOf(v: unknown, ctx: CanonContext, p: Path): string[] | null {
  if (v === null) return null;
  if (Array.isArray(v)) return v.map(String);
  const words = splitShellWords(String(v));
  if (!words) throw specError(ctx, p, `unbalanced quotes in ${JSON.stringify(v)}`);
  return words;
}

// ----------------------------------------------------------------------------- ports

function splitRange(s: string): [number, number] | undefined {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) return undefined;
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (a > 65535 || b > 65535 || b < a) return undefined;
  return [a, b];
}

/** One short-syntax port ("[[ip:]host:]container[/proto]", ranges allowed) → long entries. */
export function parsePortShort(raw: string | number, ctx: CanonContext, p: Path): Obj[] {
  let s = String(raw).trim();
  let protocol = 'tcp';
  const slash = s.lastIndexOf('/');
  if (slash >= 0) {
    protocol = s.slice(slash + 1).toLowerCase();
    s = s.slice(0, slash);
  }
  let hostIp: string | undefined;
  // IPv6 host address in brackets: [::1]:8080:80
  const v6 = /^\[([^\]]+)\]:(.*)$/.exec(s);
  let parts: string[];
  if (v6) {
    hostIp = v6[1];
    parts = v6[2].split(':');
    if (parts.length !== 2) parts = ['', ...parts].slice(-2);
  } else {
    parts = s.split(':');
    if (parts.length === 3) {
      hostIp = parts[0];
      parts = parts.slice(1);
    } else if (parts.length > 3) {
      throw specError(ctx, p, `invalid port ${JSON.stringify(raw)}`, 'write [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]');
    }
  }
  const bad = (): TscError =>
    specError(ctx, p, `invalid port ${JSON.stringify(raw)}`, 'write [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL], e.g. "8080:80" or "127.0.0.1:53:53/udp"');
  if (!['tcp', 'udp', 'sctp'].includes(protocol)) throw bad();
  if (hostIp !== undefined && hostIp !== '' && isIP(hostIp) === 0) throw specError(ctx, p, `invalid host IP ${JSON.stringify(hostIp)} in port ${JSON.stringify(raw)}`);
  if (hostIp === '') hostIp = undefined;
  const containerPart = parts[parts.length - 1];
  const hostPart = parts.length === 2 ? parts[0] : '';
  const cr = splitRange(containerPart);
  if (!cr) throw bad();
  const hr = hostPart === '' ? undefined : splitRange(hostPart);
  if (hostPart !== '' && !hr) throw bad();
  const count = cr[1] - cr[0] + 1;
  const out: Obj[] = [];
  if (hr && hr[1] - hr[0] + 1 !== count) {
    if (count === 1) {
      // host range for one container port: Compose keeps the range as the published value
      return [{ target: cr[0], published: hostPart, ...(hostIp ? { host_ip: hostIp } : {}), protocol, mode: 'ingress' }];
    }
    throw specError(ctx, p, `invalid port ${JSON.stringify(raw)}: the host range and the container range differ in size`);
  }
  for (let i = 0; i < count; i++) {
    const e: Obj = { target: cr[0] + i };
    if (hr) e.published = String(hr[0] + i);
    if (hostIp) e.host_ip = hostIp;
    e.protocol = protocol;
    e.mode = 'ingress';
    out.push(e);
  }
  return out;
}

function portLong(v: Obj, ctx: CanonContext, p: Path): Obj {
  if (v.target === undefined) throw specError(ctx, p, 'a port in long syntax needs "target" (the container port)');
  const target = int(v.target, ctx, [...p, 'target']);
  if (target < 0 || target > 65535) throw specError(ctx, [...p, 'target'], `port ${target} is out of range 0-65535`);
  const out: Obj = { target };
  if (v.published !== undefined && v.published !== '') {
    const pub = String(v.published);
    if (!splitRange(pub)) throw specError(ctx, [...p, 'published'], `invalid published port ${JSON.stringify(v.published)}`);
    out.published = pub;
  }
  if (v.host_ip !== undefined && v.host_ip !== '') {
    if (!rawKept(v.host_ip, ctx) && isIP(String(v.host_ip)) === 0) throw specError(ctx, [...p, 'host_ip'], `host_ip must be an IP address, got ${JSON.stringify(v.host_ip)}`);
    out.host_ip = v.host_ip;
  }
  const protocol = String(v.protocol ?? 'tcp').toLowerCase();
  if (!['tcp', 'udp', 'sctp'].includes(protocol)) throw specError(ctx, [...p, 'protocol'], `unknown protocol ${JSON.stringify(v.protocol)} (tcp, udp or sctp)`);
  out.protocol = protocol;
  const mode = String(v.mode ?? 'ingress');
  if (mode !== 'ingress' && mode !== 'host') throw specError(ctx, [...p, 'mode'], `unknown port mode ${JSON.stringify(v.mode)} (ingress or host)`);
  out.mode = mode;
  if (v.name !== undefined) out.name = v.name;
  if (v.app_protocol !== undefined) out.app_protocol = v.app_protocol;
  for (const [k, val] of Object.entries(v)) if (k.startsWith('x-')) out[k] = val;
  return out;
}

// ----------------------------------------------------------------------------- volumes

/** Go's path.Clean on a container path: `/var/www/html/` → `/var/www/html`, `/a//b/../c` → `/a/c` (Compose cleans volume targets). */
export function cleanContainerPath(p: string): string {
  const n = path.posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

function isHostPathLike(src: string): boolean {
  return src.startsWith('.') || src.startsWith('/') || src.startsWith('~') || src.includes('/');
}

/** One short-syntax volume ("src:dst[:mode]", "dst") → long form. */
export function parseVolumeShort(raw: string, ctx: CanonContext, p: Path): Obj {
  const parts = raw.split(':');
  if (parts.length > 1 && parts.some((x) => x === '')) {
    throw specError(ctx, p, `invalid volume ${JSON.stringify(raw)}: empty section between colons`, 'a variable used in it may be unset or empty; write [SOURCE:]CONTAINER_PATH[:MODE]');
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
    else throw specError(ctx, p, `unknown volume option ${JSON.stringify(opt)} in ${JSON.stringify(raw)}`, 'options are ro, rw, nocopy, z, Z, shared, slave, private (and their r- forms)');
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

// ----------------------------------------------------------------------------- service

const SIGNALS = new Set([
  'HUP', 'INT', 'QUIT', 'ILL', 'TRAP', 'ABRT', 'IOT', 'BUS', 'FPE', 'KILL', 'USR1', 'SEGV', 'USR2', 'PIPE', 'ALRM', 'TERM',
  'STKFLT', 'CHLD', 'CONT', 'STOP', 'TSTP', 'TTIN', 'TTOU', 'URG', 'XCPU', 'XFSZ', 'VTALRM', 'PROF', 'WINCH', 'IO', 'POLL',
  'PWR', 'SYS',
]);

/** A Linux signal: a name with or without SIG, RTMIN+n / RTMAX-n, or a number 1-64. */
function isSignal(s: string): boolean {
  if (/^\d+$/.test(s)) return Number(s) >= 1 && Number(s) <= 64;
  const n = s.toUpperCase().replace(/^SIG/, '');
  return SIGNALS.has(n) || /^RTMIN(\+\d+)?$/.test(n) || /^RTMAX(-\d+)?$/.test(n);
}

const RESTART_RE = /^(no|always|unless-stopped|on-failure(:\d+)?)$/;

function canonicalKey(key: string, v: unknown, ctx: CanonContext, p: Path): unknown {
  switch (key) {
    case 'command':
    case 'entrypoint':
      return commandOf(v, ctx, p);
    case 'environment':
    case 'labels':
    case 'annotations':
      return listOrDict(v, ctx, p);
    case 'sysctls': {
      const d = listOrDict(v, ctx, p);
      for (const [k, val] of Object.entries(d)) if (val === null) throw specError(ctx, [...p, k], `sysctl ${k} needs a value`);
      return d;
    }
    case 'env_file': {
      const entries: Obj[] = Array.isArray(v) ? v.map((e) => (typeof e === 'string' ? { path: e } : (e as Obj))) : [{ path: String(v) }];
      return entries.map((e, i) => {
        const o: Obj = { path: resolveHostPath(String(e.path), ctx), required: e.required === undefined ? true : bool(e.required, ctx, [...p, i, 'required']) };
        if (e.format !== undefined) o.format = e.format;
        return o;
      });
    }
    case 'ports':
      return (v as unknown[]).flatMap((e, i) => (isObj(e) ? [portLong(e, ctx, [...p, i])] : rawKept(e, ctx) ? [e as unknown as Obj] : parsePortShort(e as string | number, ctx, [...p, i])));
    case 'expose':
      return (v as unknown[]).map((e, i) => {
        const t = String(e);
        if (!rawKept(t, ctx) && !/^\d{1,5}(-\d{1,5})?(\/(tcp|udp|sctp))?$/.test(t)) throw specError(ctx, [...p, i], `invalid exposed port ${JSON.stringify(t)}`, 'write PORT, PORT/udp or START-END');
        return t;
      });
    case 'volumes':
      return (v as unknown[]).map((e, i) => (isObj(e) ? volumeLong(e, ctx, [...p, i]) : rawKept(e, ctx) ? e : parseVolumeShort(String(e), ctx, [...p, i])));
    case 'dns': {
      const list = strings(v);
      list.forEach((d, i) => {
        if (!rawKept(d, ctx) && isIP(d) === 0) throw specError(ctx, Array.isArray(v) ? [...p, i] : p, `a DNS server must be an IP address, got ${JSON.stringify(d)}`);
      });
      return list;
    }
    case 'tmpfs': {
      const list = strings(v);
      list.forEach((t, i) => {
        if (!rawKept(t, ctx)) {
          const r = parseTmpfsEntry(t);
          if (typeof r === 'string') throw specError(ctx, Array.isArray(v) ? [...p, i] : p, r, 'write /path or /path:size=64m,mode=1777');
        }
      });
      return list;
    }
    case 'cap_add':
    case 'cap_drop': {
      const list = strings(v);
      list.forEach((c, i) => {
        if (!rawKept(c, ctx) && !isCapability(c)) {
          const near = nearest(c.toUpperCase().replace(/^CAP_/, ''), CAPABILITIES);
          throw specError(ctx, [...p, i], `unknown capability ${JSON.stringify(c)}`, near ? `did you mean ${JSON.stringify(near)}?` : 'capability names are like NET_ADMIN or CAP_NET_ADMIN, or ALL');
        }
      });
      return list;
    }
    case 'dns_search':
    case 'dns_opt':
    case 'profiles':
    case 'security_opt':
    case 'group_add':
      return strings(v);
    case 'networks': {
      if (Array.isArray(v)) return Object.fromEntries(v.map((n) => [String(n), null]));
      const out: Obj = {};
      for (const [n, cfg] of Object.entries(v as Obj)) {
        if (cfg === null) {
          out[n] = null;
          continue;
        }
        const c = { ...(cfg as Obj) };
        if (c.ipv4_address !== undefined && !rawKept(c.ipv4_address, ctx) && isIP(String(c.ipv4_address)) !== 4) {
          throw specError(ctx, [...p, n, 'ipv4_address'], `expected an IPv4 address, got ${JSON.stringify(c.ipv4_address)}`);
        }
        if (c.ipv6_address !== undefined && !rawKept(c.ipv6_address, ctx) && isIP(String(c.ipv6_address)) !== 6) {
          throw specError(ctx, [...p, n, 'ipv6_address'], `expected an IPv6 address, got ${JSON.stringify(c.ipv6_address)}`);
        }
        if (isObj(c.driver_opts)) c.driver_opts = Object.fromEntries(Object.entries(c.driver_opts).map(([k, val]) => [k, String(val)]));
        out[n] = c;
      }
      return out;
    }
    case 'depends_on': {
      const out: Obj = {};
      if (Array.isArray(v)) {
        for (const n of v) out[String(n)] = { condition: 'service_started', restart: false, required: true };
      } else {
        for (const [n, cfg] of Object.entries(v as Obj)) {
          const c = (cfg ?? {}) as Obj;
          out[n] = {
            condition: c.condition ?? 'service_started',
            restart: c.restart === undefined ? false : bool(c.restart, ctx, [...p, n, 'restart']),
            required: c.required === undefined ? true : c.required,
          };
        }
      }
      return out;
    }
    case 'healthcheck': {
      const h = v as Obj;
      const out: Obj = {};
      for (const [k, val] of Object.entries(h)) {
        const hp = [...p, k];
        if (k === 'test') {
          if (typeof val === 'string') out.test = val === 'NONE' ? ['NONE'] : ['CMD-SHELL', val];
          else {
            const arr = (val as unknown[]).map(String);
            if (arr.length === 0 || !['CMD', 'CMD-SHELL', 'NONE'].includes(arr[0])) {
              throw specError(ctx, hp, `a healthcheck test list must start with "CMD", "CMD-SHELL" or "NONE", got ${JSON.stringify(arr[0] ?? '')}`, 'e.g. test: ["CMD", "wget", "-qO-", "http://localhost/"] or test: "wget -qO- http://localhost/"');
            }
            out.test = arr;
          }
        } else if (k === 'interval' || k === 'timeout' || k === 'start_period' || k === 'start_interval') out[k] = duration(val, ctx, hp);
        else if (k === 'retries') out.retries = int(val, ctx, hp);
        else if (k === 'disable') out.disable = bool(val, ctx, hp);
        else out[k] = val;
      }
      return out;
    }
    case 'deploy': {
      const d = { ...(v as Obj) };
      if (d.replicas !== undefined) d.replicas = int(d.replicas, ctx, [...p, 'replicas']);
      if (isObj(d.resources)) {
        const r: Obj = { ...d.resources };
        for (const which of ['limits', 'reservations']) {
          if (!isObj(r[which])) continue;
          const l: Obj = { ...(r[which] as Obj) };
          const lp = [...p, 'resources', which];
          if (l.cpus !== undefined) l.cpus = num(l.cpus, ctx, [...lp, 'cpus']);
          if (l.memory !== undefined) l.memory = bytes(l.memory, ctx, [...lp, 'memory']);
          if (l.pids !== undefined) l.pids = int(l.pids, ctx, [...lp, 'pids']);
          r[which] = l;
        }
        d.resources = r;
      }
      if (d.labels !== undefined) d.labels = listOrDict(d.labels, ctx, [...p, 'labels']);
      return d;
    }
    case 'mem_limit':
    case 'mem_reservation':
    case 'memswap_limit':
    case 'shm_size':
      if (key === 'memswap_limit' && (v === -1 || v === '-1')) return -1;
      return bytes(v, ctx, p);
    case 'cpus':
      return num(v, ctx, p);
    case 'cpu_shares':
    case 'cpu_quota':
    case 'cpu_period':
    case 'pids_limit':
    case 'scale':
    case 'oom_score_adj':
    case 'mem_swappiness':
      return int(v, ctx, p);
    case 'init':
    case 'read_only':
    case 'privileged':
    case 'tty':
    case 'stdin_open':
    case 'oom_kill_disable':
      return bool(v, ctx, p);
    case 'stop_grace_period':
      return duration(v, ctx, p);
    case 'stop_signal': {
      const sig = String(v);
      if (!isSignal(sig)) throw specError(ctx, p, `unknown signal ${JSON.stringify(sig)}`, 'use a signal name such as SIGTERM, SIGINT, SIGQUIT, or its number');
      return sig;
    }
    case 'restart': {
      const r = String(v);
      if (!RESTART_RE.test(r)) throw specError(ctx, p, `unknown restart policy ${JSON.stringify(r)}`, 'use "no", "always", "on-failure", "on-failure:N" or "unless-stopped"');
      return r;
    }
    case 'extra_hosts': {
      const out: Record<string, string[]> = {};
      if (Array.isArray(v)) {
        v.forEach((e, i) => {
          const s = String(e);
          const eq = s.indexOf('=');
          const sep = eq >= 0 ? eq : s.indexOf(':');
          if (sep <= 0) throw specError(ctx, [...p, i], `invalid extra host ${JSON.stringify(s)}`, 'write "HOST=IP" or "HOST:IP"');
          const host = s.slice(0, sep);
          let ip = s.slice(sep + 1);
          if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
          (out[host] ??= []).push(ip);
        });
      } else {
        for (const [h, ips] of Object.entries(v as Obj)) out[h] = strings(ips);
      }
      return out;
    }
    case 'ulimits': {
      const out: Obj = {};
      for (const [n, l] of Object.entries(v as Obj)) {
        if (isObj(l)) {
          const soft = int(l.soft, ctx, [...p, n, 'soft']);
          const hard = int(l.hard, ctx, [...p, n, 'hard']);
          if (soft > hard && hard !== -1) throw specError(ctx, [...p, n], `soft limit ${soft} is above hard limit ${hard}`);
          out[n] = { soft, hard };
        } else {
          const x = int(l, ctx, [...p, n]);
          out[n] = { soft: x, hard: x };
        }
      }
      return out;
    }
    case 'build': {
      const b: Obj = typeof v === 'string' ? { context: v } : { ...(v as Obj) };
      const context = String(b.context ?? '.');
      b.context = /^[a-z]+:\/\//i.test(context) || context.startsWith('git@') ? context : resolveHostPath(context, ctx);
      if (b.args !== undefined) b.args = listOrDict(b.args, ctx, [...p, 'args']);
      if (b.labels !== undefined) b.labels = listOrDict(b.labels, ctx, [...p, 'labels']);
      return b;
    }
    case 'extends':
      return typeof v === 'string' ? { service: v } : v;
    case 'secrets':
    case 'configs':
      // short `- name` → `{source: name}`; a secret is mounted at /run/secrets/<source> unless told (compose-go)
      return (v as unknown[]).map((e) => {
        const o: Obj = typeof e === 'string' ? { source: e } : { ...(e as Obj) };
        if (key === 'secrets' && o.target === undefined) o.target = `/run/secrets/${String(o.source)}`;
        return o;
      });
    case 'pid':
      return v === null ? undefined : v;
    default:
      return v;
  }
}

/** Canonicalizes one service of one file (a fragment: only the keys present). */
export function canonicalService(raw: Obj, ctx: CanonContext, p: Path): Obj {
  const out: Obj = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key.startsWith('x-')) {
      out[key] = value;
      continue;
    }
    if (value instanceof Tagged) {
      out[key] = value.tag === 'reset' ? value : new Tagged('override', canonicalKey(key, stripTags(value.value), ctx, [...p, key]));
      continue;
    }
    const c = canonicalKey(key, stripTags(value), ctx, [...p, key]);
    if (c !== undefined) out[key] = c;
  }
  return out;
}

/** Removes `!reset`/`!override` tags below the first level: `!override` keeps its value, `!reset` removes the entry. */
export function stripTags(v: unknown): unknown {
  if (v instanceof Tagged) return v.tag === 'reset' ? undefined : stripTags(v.value);
  if (Array.isArray(v)) return v.filter((e) => !(e instanceof Tagged && e.tag === 'reset')).map(stripTags);
  if (isObj(v)) {
    const out: Obj = {};
    for (const [k, val] of Object.entries(v)) {
      if (val instanceof Tagged && val.tag === 'reset') continue;
      out[k] = stripTags(val);
    }
    return out;
  }
  return v;
}

/** Semantic checks of a top-level network that the schema cannot express (addresses, CIDRs). */
export function checkNetwork(name: string, v: unknown, ctx: CanonContext): void {
  if (!isObj(v) || !isObj(v.ipam) || !Array.isArray(v.ipam.config)) return;
  v.ipam.config.forEach((c, i) => {
    if (!isObj(c)) return;
    const p: Path = ['networks', name, 'ipam', 'config', i];
    let family = 0;
    if (c.subnet !== undefined && !rawKept(c.subnet, ctx)) {
      const m = /^([^/]+)\/(\d{1,3})$/.exec(String(c.subnet));
      family = m ? isIP(m[1]) : 0;
      if (!m || family === 0 || Number(m[2]) > (family === 4 ? 32 : 128)) {
        throw specError(ctx, [...p, 'subnet'], `expected a subnet in CIDR notation (e.g. 172.28.0.0/16), got ${JSON.stringify(c.subnet)}`);
      }
    }
    for (const k of ['gateway', 'ip_range'] as const) {
      if (c[k] === undefined || rawKept(c[k], ctx)) continue;
      const text = String(c[k]);
      const addr = k === 'ip_range' ? text.split('/')[0] : text;
      const fam = isIP(addr);
      if (fam === 0 || (family !== 0 && fam !== family)) {
        throw specError(ctx, [...p, k], `expected ${k === 'gateway' ? 'an IP address' : 'a CIDR range'}${family ? ` of the subnet's family (IPv${family})` : ''}, got ${JSON.stringify(c[k])}`);
      }
    }
  });
}

/** Linux capability names without the CAP_ prefix (the one list, in common). */
export const CAPABILITIES = CAPABILITY_NAMES;

/** A capability as Compose accepts it: NAME or CAP_NAME, any case, or ALL. */
export function isCapability(c: string): boolean {
  const n = c.toUpperCase().replace(/^CAP_/, '');
  return n === 'ALL' || CAPABILITIES.includes(n);
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
  for (const opt of text.slice(colon + 1).split(',').filter(Boolean)) {
    const [k, val] = opt.split('=', 2);
    if (k === 'size') {
      const b = val === undefined ? undefined : parseBytes(val);
      if (b === undefined) return `invalid tmpfs size ${JSON.stringify(val ?? '')} in ${JSON.stringify(text)}`;
      out.size = b;
    } else if (k === 'mode') {
      if (val === undefined || !/^[0-7]{1,4}$/.test(val)) return `invalid tmpfs mode ${JSON.stringify(val ?? '')} in ${JSON.stringify(text)} (octal, e.g. 1777)`;
      out.mode = parseInt(val, 8);
    } else if (['uid', 'gid', 'nr_inodes', 'nr_blocks'].includes(k) ? val !== undefined && /^\d+[kmg]?$/i.test(val) : ['ro', 'rw', 'noexec', 'exec', 'nosuid', 'suid', 'nodev', 'dev', 'noatime', 'atime', 'relatime', 'strictatime', 'nodiratime', 'diratime'].includes(opt)) {
      out.options.push(opt);
    } else {
      return `unknown tmpfs option ${JSON.stringify(opt)} in ${JSON.stringify(text)}`;
    }
  }
  return out;
}
