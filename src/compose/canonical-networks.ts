/** Canonical networking keys of a service (`networks`, `dns`, `extra_hosts`) and the checks of a top-level network. */
import { isIP } from 'node:net';

import { isObj, rawKept, specError, strings, type CanonContext, type Obj, type Path, type Transformer } from './canonical-values.js';

export const NETWORK_TRANSFORMERS: Record<string, Transformer> = {
  networks: (v, ctx, p) => {
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
  },
  dns: (v, ctx, p) => {
    const list = strings(v);
    list.forEach((d, i) => {
      if (!rawKept(d, ctx) && isIP(d) === 0)
        throw specError(ctx, Array.isArray(v) ? [...p, i] : p, `a DNS server must be an IP address, got ${JSON.stringify(d)}`);
    });
    return list;
  },
  extra_hosts: (v, ctx, p) => {
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
  },
};

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
        throw specError(
          ctx,
          [...p, k],
          `expected ${k === 'gateway' ? 'an IP address' : 'a CIDR range'}${family ? ` of the subnet's family (IPv${family})` : ''}, got ${JSON.stringify(c[k])}`,
        );
      }
    }
  });
}
