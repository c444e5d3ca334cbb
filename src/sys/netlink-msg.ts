/**
 * rtnetlink message building and parsing, in pure TypeScript (no syscalls): nlmsghdr,
 * ifinfomsg, ifaddrmsg, rtmsg and rtattr TLVs, all little-endian and 4-byte aligned as the
 * kernel lays them out (linux/netlink.h, linux/rtnetlink.h, linux/if_link.h).
 */

export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
/** in an NLMSG_ERROR reply: the original request was cut to its header */
export const NLM_F_CAPPED = 0x100;
/** in an NLMSG_ERROR reply: extended-ack TLVs follow */
export const NLM_F_ACK_TLVS = 0x200;
export const NLMSGERR_ATTR_MSG = 1;

export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_SETLINK = 19;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;
export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;

export const IFF_UP = 0x1;
export const IFF_LOOPBACK = 0x8;

export const IFLA_ADDRESS = 1;
export const IFLA_IFNAME = 3;
export const IFLA_MTU = 4;
export const IFLA_LINK = 5;
export const IFLA_MASTER = 10;
export const IFLA_OPERSTATE = 16;
export const IFLA_LINKINFO = 18;
export const IFLA_IFALIAS = 20;
export const IFLA_NET_NS_FD = 28;
export const IFLA_INFO_KIND = 1;
export const IFLA_INFO_DATA = 2;
export const VETH_INFO_PEER = 1;

export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const IFA_LABEL = 3;
export const IFA_BROADCAST = 4;

export const RTA_DST = 1;
export const RTA_OIF = 4;
export const RTA_GATEWAY = 5;
export const RTA_PRIORITY = 6;
export const RTA_PREFSRC = 7;
export const RTA_TABLE = 15;

export const RT_TABLE_MAIN = 254;
export const RTPROT_KERNEL = 2;
export const RTPROT_BOOT = 3;
export const RTPROT_STATIC = 4;
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_LINK = 253;
export const RT_SCOPE_HOST = 254;
export const RTN_UNICAST = 1;

export const NLA_F_NESTED = 0x8000;
export const NLA_TYPE_MASK = 0x3fff;

export const NLMSG_HDRLEN = 16;
export const IFINFOMSG_LEN = 16;
export const IFADDRMSG_LEN = 8;
export const RTMSG_LEN = 12;

export function align4(n: number): number {
  return (n + 3) & ~3;
}

/** One rtattr: 2-byte length, 2-byte type, payload, zero padding to 4 bytes. */
export function rtattr(type: number, payload: Buffer): Buffer {
  const len = 4 + payload.length;
  const b = Buffer.alloc(align4(len));
  b.writeUInt16LE(len, 0);
  b.writeUInt16LE(type, 2);
  payload.copy(b, 4);
  return b;
}

export function attrU32(type: number, v: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32LE(v >>> 0, 0);
  return rtattr(type, p);
}

export function attrI32(type: number, v: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeInt32LE(v, 0);
  return rtattr(type, p);
}

/** A NUL-terminated string attribute (IFLA_IFNAME, IFLA_INFO_KIND...). */
export function attrStr(type: number, s: string): Buffer {
  return rtattr(type, Buffer.concat([Buffer.from(s, 'utf8'), Buffer.alloc(1)]));
}

export function attrNested(type: number, children: Buffer[]): Buffer {
  return rtattr(type | NLA_F_NESTED, Buffer.concat(children));
}

export function ipv4Bytes(ip: string): Buffer {
  const parts = ip.split('.').map((x) => Number(x));
  if (parts.length !== 4 || parts.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) {
    throw new RangeError(`not an IPv4 address: ${ip}`);
  }
  return Buffer.from(parts);
}

export function ipv4String(b: Buffer): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

export function macString(b: Buffer): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export interface IfInfoMsg {
  family?: number;
  type?: number;
  index?: number;
  flags?: number;
  change?: number;
}

export function ifinfomsg(m: IfInfoMsg = {}): Buffer {
  const b = Buffer.alloc(IFINFOMSG_LEN);
  b.writeUInt8(m.family ?? 0, 0);
  b.writeUInt16LE(m.type ?? 0, 2);
  b.writeInt32LE(m.index ?? 0, 4);
  b.writeUInt32LE((m.flags ?? 0) >>> 0, 8);
  b.writeUInt32LE((m.change ?? 0) >>> 0, 12);
  return b;
}

export interface IfAddrMsg {
  family: number;
  prefixlen: number;
  flags?: number;
  scope?: number;
  index: number;
}

export function ifaddrmsg(m: IfAddrMsg): Buffer {
  const b = Buffer.alloc(IFADDRMSG_LEN);
  b.writeUInt8(m.family, 0);
  b.writeUInt8(m.prefixlen, 1);
  b.writeUInt8(m.flags ?? 0, 2);
  b.writeUInt8(m.scope ?? 0, 3);
  b.writeUInt32LE(m.index, 4);
  return b;
}

export interface RtMsg {
  family: number;
  dstLen?: number;
  srcLen?: number;
  tos?: number;
  table?: number;
  protocol?: number;
  scope?: number;
  type?: number;
  flags?: number;
}

export function rtmsg(m: RtMsg): Buffer {
  const b = Buffer.alloc(RTMSG_LEN);
  b.writeUInt8(m.family, 0);
  b.writeUInt8(m.dstLen ?? 0, 1);
  b.writeUInt8(m.srcLen ?? 0, 2);
  b.writeUInt8(m.tos ?? 0, 3);
  b.writeUInt8(m.table ?? 0, 4);
  b.writeUInt8(m.protocol ?? 0, 5);
  b.writeUInt8(m.scope ?? 0, 6);
  b.writeUInt8(m.type ?? 0, 7);
  b.writeUInt32LE(m.flags ?? 0, 8);
  return b;
}

/** A whole netlink message: nlmsghdr (length filled in) + body parts. */
export function nlmsg(type: number, flags: number, seq: number, parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const hdr = Buffer.alloc(NLMSG_HDRLEN);
  hdr.writeUInt32LE(NLMSG_HDRLEN + body.length, 0);
  hdr.writeUInt16LE(type, 4);
  hdr.writeUInt16LE(flags, 6);
  hdr.writeUInt32LE(seq >>> 0, 8);
  hdr.writeUInt32LE(0, 12);
  return Buffer.concat([hdr, body]);
}

export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** the bytes after nlmsghdr, up to nlmsg_len */
  payload: Buffer;
}

/** Splits a datagram into its netlink messages; throws on a malformed length. */
export function parseMessages(buf: Buffer): NlMessage[] {
  const out: NlMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) {
      throw new RangeError(`malformed netlink message: length ${len} at offset ${off} of ${buf.length}`);
    }
    out.push({
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      pid: buf.readUInt32LE(off + 12),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

export interface Attr {
  type: number;
  data: Buffer;
}

/** Parses a run of rtattrs; the NLA_F_NESTED / byte-order bits are masked off the type. */
export function parseAttrs(buf: Buffer): Attr[] {
  const out: Attr[] = [];
  let off = 0;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || off + len > buf.length) break;
    out.push({ type: buf.readUInt16LE(off + 2) & NLA_TYPE_MASK, data: buf.subarray(off + 4, off + len) });
    off += align4(len);
  }
  return out;
}

export function attrMap(buf: Buffer): Map<number, Buffer> {
  const m = new Map<number, Buffer>();
  for (const a of parseAttrs(buf)) if (!m.has(a.type)) m.set(a.type, a.data);
  return m;
}

export function cString(b: Buffer | undefined): string | undefined {
  if (!b) return undefined;
  const z = b.indexOf(0);
  return b.subarray(0, z < 0 ? b.length : z).toString('utf8');
}

export interface NlError {
  /** positive errno, 0 for a plain ACK */
  errno: number;
  seq: number;
  /** the kernel's extended-ack message, when it gave one */
  message?: string;
}

/** Decodes an NLMSG_ERROR message (an ACK when errno is 0). */
export function parseError(m: NlMessage): NlError {
  const err = m.payload.readInt32LE(0);
  const origSeq = m.payload.length >= 4 + NLMSG_HDRLEN ? m.payload.readUInt32LE(4 + 8) : m.seq;
  let message: string | undefined;
  if (m.flags & NLM_F_ACK_TLVS && m.payload.length >= 4 + NLMSG_HDRLEN) {
    const origLen = m.payload.readUInt32LE(4);
    const skip = m.flags & NLM_F_CAPPED ? NLMSG_HDRLEN : align4(origLen);
    const tlvs = m.payload.subarray(4 + skip);
    message = cString(attrMap(tlvs).get(NLMSGERR_ATTR_MSG));
  }
  return { errno: -err, seq: origSeq, message };
}
