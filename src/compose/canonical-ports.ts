/** Canonical ports: `ports` (short "[[ip:]host:]container[/proto]" or long form) and `expose`. */
import { isIP } from 'node:net';

import type { TscError } from '../common/errors.js';
import { spend } from './limits.js';
import { int, isObj, rawKept, specError, type CanonContext, type Obj, type Path, type Transformer } from './canonical-values.js';

function splitRange(s: string): [number, number] | undefined {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) return undefined;
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (a > 65535 || b > 65535 || b < a) return undefined;
  return [a, b];
}

/** One short-syntax port ("[[ip:]host:]container[/proto]", ranges allowed) → long entries. */
function parsePortShort(raw: string | number, ctx: CanonContext, p: Path): Obj[] {
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
  if (hostIp !== undefined && hostIp !== '' && isIP(hostIp) === 0)
    throw specError(ctx, p, `invalid host IP ${JSON.stringify(hostIp)} in port ${JSON.stringify(raw)}`);
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
  const pos = ctx.positions.find(p);
  spend(ctx.budget, count, pos ? `${pos.file}:${pos.line}:${pos.col}` : ctx.file, 'port ranges are expanded');
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
    if (!rawKept(v.host_ip, ctx) && isIP(String(v.host_ip)) === 0)
      throw specError(ctx, [...p, 'host_ip'], `host_ip must be an IP address, got ${JSON.stringify(v.host_ip)}`);
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

export const PORT_TRANSFORMERS: Record<string, Transformer> = {
  ports: (v, ctx, p) =>
    (v as unknown[]).flatMap((e, i) =>
      isObj(e) ? [portLong(e, ctx, [...p, i])] : rawKept(e, ctx) ? [e as unknown as Obj] : parsePortShort(e as string | number, ctx, [...p, i]),
    ),
  expose: (v, ctx, p) =>
    (v as unknown[]).map((e, i) => {
      const t = String(e);
      if (!rawKept(t, ctx) && !/^\d{1,5}(-\d{1,5})?(\/(tcp|udp|sctp))?$/.test(t))
        throw specError(ctx, [...p, i], `invalid exposed port ${JSON.stringify(t)}`, 'write PORT, PORT/udp or START-END');
      return t;
    }),
};
