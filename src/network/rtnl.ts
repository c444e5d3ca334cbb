/**
 * Link, address and route operations over one rtnetlink socket. Every failure is a
 * TscError NETWORK that names the object (link name, address, route) it was about.
 */
import { TscError } from '../common/errors.js';
import { NetlinkSocket } from '../sys/netlink.js';
import { E, hasErrno } from '../sys/libc.js';
import { AF_INET } from '../sys/socket.js';
import {
  IFA_ADDRESS,
  IFA_LOCAL,
  IFF_UP,
  IFLA_ADDRESS,
  IFLA_IFALIAS,
  IFLA_IFNAME,
  IFLA_INFO_DATA,
  IFLA_INFO_KIND,
  IFLA_LINKINFO,
  IFLA_MASTER,
  IFLA_MTU,
  IFLA_NET_NS_FD,
  IFINFOMSG_LEN,
  IFADDRMSG_LEN,
  NLM_F_CREATE,
  NLM_F_EXCL,
  RTA_DST,
  RTA_GATEWAY,
  RTA_OIF,
  RTA_TABLE,
  RTMSG_LEN,
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_DELROUTE,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_GETROUTE,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTM_NEWROUTE,
  RTM_SETLINK,
  RTN_UNICAST,
  RTPROT_BOOT,
  RT_SCOPE_UNIVERSE,
  RT_TABLE_MAIN,
  VETH_INFO_PEER,
  attrMap,
  attrNested,
  attrStr,
  attrU32,
  cString,
  ifaddrmsg,
  ifinfomsg,
  ipv4Bytes,
  ipv4String,
  macString,
  rtmsg,
} from '../sys/netlink-msg.js';

export interface LinkInfo {
  index: number;
  name: string;
  flags: number;
  up: boolean;
  mtu: number;
  /** index of the bridge this link is enslaved to, 0 if none */
  master: number;
  /** "bridge", "veth"... ("" for devices without a kind, like lo) */
  kind: string;
  alias: string;
  mac: string;
}

export interface AddrInfo {
  index: number;
  address: string;
  prefixLen: number;
}

export interface RouteInfo {
  dst: string;
  dstLen: number;
  gateway?: string;
  oif?: number;
  table: number;
  protocol: number;
  scope: number;
}

export interface LinkAttrs {
  mtu?: number;
  alias?: string;
  /** fixed hardware address "aa:bb:cc:dd:ee:ff" */
  mac?: string;
  /** with newVeth: the hardware address of the peer (the container's end) */
  peerMac?: string;
}

export function macBytes(mac: string): Buffer {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) throw new RangeError(`not a MAC address: ${mac}`);
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

function commonAttrs(a: LinkAttrs): Buffer[] {
  const out: Buffer[] = [];
  if (a.mac) out.push(attrBytes(IFLA_ADDRESS, macBytes(a.mac)));
  if (a.mtu) out.push(attrU32(IFLA_MTU, a.mtu));
  if (a.alias) out.push(attrStr(IFLA_IFALIAS, a.alias));
  return out;
}

/** Builders are exported so unit tests can check the bytes. */
export const build = {
  newBridge(name: string, a: LinkAttrs = {}): Buffer[] {
    return [ifinfomsg(), attrStr(IFLA_IFNAME, name), ...commonAttrs(a), attrNested(IFLA_LINKINFO, [attrStr(IFLA_INFO_KIND, 'bridge')])];
  },
  newVeth(name: string, peer: string, peerNsFd: number | undefined, a: LinkAttrs = {}): Buffer[] {
    const peerBody = [
      ifinfomsg(),
      attrStr(IFLA_IFNAME, peer),
      ...(a.peerMac ? [attrBytes(IFLA_ADDRESS, macBytes(a.peerMac))] : []),
      ...(a.mtu ? [attrU32(IFLA_MTU, a.mtu)] : []),
      ...(peerNsFd !== undefined ? [attrU32(IFLA_NET_NS_FD, peerNsFd)] : []),
    ];
    return [
      ifinfomsg(),
      attrStr(IFLA_IFNAME, name),
      ...commonAttrs(a),
      attrNested(IFLA_LINKINFO, [attrStr(IFLA_INFO_KIND, 'veth'), attrNested(IFLA_INFO_DATA, [attrNested(VETH_INFO_PEER, peerBody)])]),
    ];
  },
  setLink(index: number, s: { up?: boolean; mtu?: number; master?: number; name?: string; nsFd?: number }): Buffer[] {
    const parts = [ifinfomsg({ index, flags: s.up ? IFF_UP : 0, change: s.up === undefined ? 0 : IFF_UP })];
    if (s.name) parts.push(attrStr(IFLA_IFNAME, s.name));
    if (s.mtu) parts.push(attrU32(IFLA_MTU, s.mtu));
    if (s.master !== undefined) parts.push(attrU32(IFLA_MASTER, s.master));
    if (s.nsFd !== undefined) parts.push(attrU32(IFLA_NET_NS_FD, s.nsFd));
    return parts;
  },
  addr(index: number, address: string, prefixLen: number): Buffer[] {
    const ip = ipv4Bytes(address);
    return [
      ifaddrmsg({ family: AF_INET, prefixlen: prefixLen, index, scope: RT_SCOPE_UNIVERSE }),
      Buffer.concat([
        // IFA_LOCAL is the interface's own address; IFA_ADDRESS the peer (same on broadcast links)
        attrBytes(IFA_LOCAL, ip),
        attrBytes(IFA_ADDRESS, ip),
      ]),
    ];
  },
  route(r: { dst: string; dstLen: number; gateway?: string; oif?: number }): Buffer[] {
    const parts = [
      rtmsg({
        family: AF_INET,
        dstLen: r.dstLen,
        table: RT_TABLE_MAIN,
        protocol: RTPROT_BOOT,
        scope: RT_SCOPE_UNIVERSE,
        type: RTN_UNICAST,
      }),
      attrU32(RTA_TABLE, RT_TABLE_MAIN),
    ];
    if (r.dstLen > 0) parts.push(attrBytes(RTA_DST, ipv4Bytes(r.dst)));
    if (r.gateway) parts.push(attrBytes(RTA_GATEWAY, ipv4Bytes(r.gateway)));
    if (r.oif) parts.push(attrU32(RTA_OIF, r.oif));
    return parts;
  },
};

function attrBytes(type: number, b: Buffer): Buffer {
  const len = 4 + b.length;
  const out = Buffer.alloc((len + 3) & ~3);
  out.writeUInt16LE(len, 0);
  out.writeUInt16LE(type, 2);
  b.copy(out, 4);
  return out;
}

export function parseLink(payload: Buffer): LinkInfo {
  const index = payload.readInt32LE(4);
  const flags = payload.readUInt32LE(8);
  const attrs = attrMap(payload.subarray(IFINFOMSG_LEN));
  const linkinfo = attrs.get(IFLA_LINKINFO);
  const kind = linkinfo ? (cString(attrMap(linkinfo).get(IFLA_INFO_KIND)) ?? '') : '';
  const mtu = attrs.get(IFLA_MTU);
  const master = attrs.get(IFLA_MASTER);
  const mac = attrs.get(IFLA_ADDRESS);
  return {
    index,
    name: cString(attrs.get(IFLA_IFNAME)) ?? '',
    flags,
    up: (flags & IFF_UP) !== 0,
    mtu: mtu ? mtu.readUInt32LE(0) : 0,
    master: master ? master.readUInt32LE(0) : 0,
    kind,
    alias: cString(attrs.get(IFLA_IFALIAS)) ?? '',
    mac: mac ? macString(mac) : '',
  };
}

export function parseAddr(payload: Buffer): AddrInfo | undefined {
  if (payload.readUInt8(0) !== AF_INET) return undefined;
  const attrs = attrMap(payload.subarray(IFADDRMSG_LEN));
  const a = attrs.get(IFA_LOCAL) ?? attrs.get(IFA_ADDRESS);
  if (!a) return undefined;
  return { index: payload.readUInt32LE(4), address: ipv4String(a), prefixLen: payload.readUInt8(1) };
}

export function parseRoute(payload: Buffer): RouteInfo | undefined {
  if (payload.readUInt8(0) !== AF_INET) return undefined;
  const attrs = attrMap(payload.subarray(RTMSG_LEN));
  const dst = attrs.get(RTA_DST);
  const gw = attrs.get(RTA_GATEWAY);
  const oif = attrs.get(RTA_OIF);
  const table = attrs.get(RTA_TABLE);
  return {
    dst: dst ? ipv4String(dst) : '0.0.0.0',
    dstLen: payload.readUInt8(1),
    gateway: gw ? ipv4String(gw) : undefined,
    oif: oif ? oif.readUInt32LE(0) : undefined,
    table: table ? table.readUInt32LE(0) : payload.readUInt8(4),
    protocol: payload.readUInt8(5),
    scope: payload.readUInt8(6),
  };
}

/** rtnetlink operations in the namespace the socket was opened in. */
export class Rtnl {
  constructor(readonly sock: NetlinkSocket = new NetlinkSocket()) {}

  close(): void {
    this.sock.close();
  }

  createBridge(name: string, a: LinkAttrs = {}): void {
    this.sock.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, build.newBridge(name, a), `creating bridge ${name}`);
    if (a.alias) this.setAlias(name, a.alias);
  }

  /** The kernel ignores IFLA_IFALIAS when creating a link: it is set with RTM_SETLINK. */
  setAlias(name: string, alias: string): void {
    const l = this.requireLink(name);
    this.sock.request(RTM_SETLINK, 0, [ifinfomsg({ index: l.index }), attrStr(IFLA_IFALIAS, alias)], `setting the alias of link ${name}`);
  }

  /** A veth pair; with `peerNsFd` the peer is created directly in that network namespace. */
  createVeth(name: string, peer: string, peerNsFd?: number, a: LinkAttrs = {}): void {
    this.sock.request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, build.newVeth(name, peer, peerNsFd, a), `creating veth pair ${name} (peer ${peer})`);
    if (a.alias) this.setAlias(name, a.alias);
  }

  deleteLink(index: number, label: string): void {
    this.sock.request(RTM_DELLINK, 0, [ifinfomsg({ index })], `deleting link ${label}`);
  }

  /** Deletes a link by name; returns false when it did not exist. */
  deleteLinkByName(name: string): boolean {
    const l = this.getLink(name);
    if (!l) return false;
    try {
      this.deleteLink(l.index, name);
    } catch (e) {
      if (hasErrno(e, E.ENODEV)) return false; // gone meanwhile
      throw e;
    }
    return true;
  }

  setLink(index: number, s: { up?: boolean; mtu?: number; master?: number; name?: string; nsFd?: number }, label: string): void {
    const what = [
      s.name ? `renaming to ${s.name}` : '',
      s.up !== undefined ? (s.up ? 'setting up' : 'setting down') : '',
      s.mtu ? `setting MTU ${s.mtu}` : '',
      s.master !== undefined ? `setting master ${s.master}` : '',
      s.nsFd !== undefined ? 'moving to another namespace' : '',
    ]
      .filter(Boolean)
      .join(', ');
    this.sock.request(RTM_SETLINK, 0, build.setLink(index, s), `${what} of link ${label}`);
  }

  /** One link by name (a targeted RTM_GETLINK, not a dump); undefined when there is none. */
  getLink(name: string): LinkInfo | undefined {
    try {
      const msgs = this.sock.get(RTM_GETLINK, [ifinfomsg(), attrStr(IFLA_IFNAME, name)], `looking up link ${name}`);
      const m = msgs.find((x) => x.type === RTM_NEWLINK);
      return m ? parseLink(m.payload) : undefined;
    } catch (e) {
      if (hasErrno(e, E.ENODEV)) return undefined;
      throw e;
    }
  }

  requireLink(name: string): LinkInfo {
    const l = this.getLink(name);
    if (!l) throw new TscError('NETWORK', `link ${name} does not exist`);
    return l;
  }

  listLinks(): LinkInfo[] {
    return this.sock
      .dump(RTM_GETLINK, [ifinfomsg()], 'listing links')
      .filter((m) => m.type === RTM_NEWLINK)
      .map((m) => parseLink(m.payload));
  }

  addAddress(index: number, address: string, prefixLen: number, label: string): void {
    this.sock.request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, build.addr(index, address, prefixLen), `adding address ${address}/${prefixLen} to ${label}`);
  }

  deleteAddress(index: number, address: string, prefixLen: number, label: string): void {
    this.sock.request(RTM_DELADDR, 0, build.addr(index, address, prefixLen), `removing address ${address}/${prefixLen} from ${label}`);
  }

  listAddresses(): AddrInfo[] {
    return this.sock
      .dump(RTM_GETADDR, [ifaddrmsg({ family: AF_INET, prefixlen: 0, index: 0 })], 'listing addresses')
      .filter((m) => m.type === RTM_NEWADDR)
      .map((m) => parseAddr(m.payload))
      .filter((a): a is AddrInfo => a !== undefined);
  }

  addRoute(r: { dst: string; dstLen: number; gateway?: string; oif?: number }, label: string): void {
    this.sock.request(
      RTM_NEWROUTE,
      NLM_F_CREATE | NLM_F_EXCL,
      build.route(r),
      `adding route ${r.dstLen === 0 ? 'default' : `${r.dst}/${r.dstLen}`}${r.gateway ? ` via ${r.gateway}` : ''} (${label})`,
    );
  }

  deleteRoute(r: { dst: string; dstLen: number; gateway?: string; oif?: number }, label: string): void {
    this.sock.request(
      RTM_DELROUTE,
      0,
      build.route(r),
      `removing route ${r.dstLen === 0 ? 'default' : `${r.dst}/${r.dstLen}`}${r.gateway ? ` via ${r.gateway}` : ''} (${label})`,
    );
  }

  /** IPv4 routes of every table. */
  listRoutes(): RouteInfo[] {
    return this.sock
      .dump(RTM_GETROUTE, [rtmsg({ family: AF_INET })], 'listing routes')
      .filter((m) => m.type === RTM_NEWROUTE)
      .map((m) => parseRoute(m.payload))
      .filter((r): r is RouteInfo => r !== undefined);
  }
}
