/** IPv4 address and CIDR arithmetic on unsigned 32-bit integers. */
import { TscError } from '../common/errors.js';

export interface Cidr {
  /** network address (host bits cleared) */
  base: number;
  prefix: number;
}

export function isIPv4(s: string): boolean {
  const p = s.split('.');
  return p.length === 4 && p.every((x) => /^\d{1,3}$/.test(x) && Number(x) <= 255);
}

export function ipToInt(ip: string): number {
  if (!isIPv4(ip)) throw new TscError('NETWORK_IPAM', `"${ip}" is not an IPv4 address`);
  return ip.split('.').reduce((a, x) => ((a << 8) | Number(x)) >>> 0, 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function parseCidr(s: string): Cidr {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(s.trim());
  if (!m || Number(m[2]) > 32 || !isIPv4(m[1])) {
    throw new TscError('NETWORK_IPAM', `"${s}" is not an IPv4 subnet in CIDR form`, { hint: 'write it like 172.28.0.0/16' });
  }
  const prefix = Number(m[2]);
  return { base: (ipToInt(m[1]) & maskOf(prefix)) >>> 0, prefix };
}

export function cidrString(c: Cidr): string {
  return `${intToIp(c.base)}/${c.prefix}`;
}

export function cidrSize(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function contains(c: Cidr, ip: number): boolean {
  return (ip & maskOf(c.prefix)) >>> 0 === c.base;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return (a.base & maskOf(p)) >>> 0 === (b.base & maskOf(p)) >>> 0;
}
