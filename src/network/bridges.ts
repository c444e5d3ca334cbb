/**
 * Compose networks on the host: one Linux bridge per network with the gateway address on it
 * (or an existing bridge for `external: true`), its subnet from IPAM and its firewall rules.
 */
import { TscError } from '../common/errors.js';
import { intToIp, maskOf, parseCidr, ipToInt } from './ip.js';
import { allocateSubnet, releaseNetwork, type HostRoute } from './ipam.js';
import { bridgeMacFor, bridgeNameFor, linkAlias } from './names.js';
import { firewallAdd, firewallRemove } from './firewall.js';
import { journalAdd, journalRemove } from './link-journal.js';
import { type LinkInfo, Rtnl } from './rtnl.js';

export interface NetworkOptions {
  root: string;
  project: string;
  /** the compose network's name (key in `networks:`) */
  name: string;
  /** host bridge name; derived from root + project + name when not given */
  bridgeName?: string;
  subnet?: string;
  gateway?: string;
  internal: boolean;
  /** 0 or undefined = the kernel's default (1500) */
  mtu?: number;
  /** attach to an existing bridge instead of creating one (`external: true`) */
  external?: { bridge: string };
}

export interface NetworkInfo {
  root: string;
  project: string;
  name: string;
  bridgeName: string;
  subnet: string;
  gateway: string;
  prefixLen: number;
  internal: boolean;
  mtu: number;
  external: boolean;
}

function hostRoutes(rt: Rtnl, links: LinkInfo[], ownBridge: string): HostRoute[] {
  const names = new Map(links.map((l) => [l.index, l.name]));
  return rt
    .listRoutes()
    .filter((r) => r.table === 254 && r.dstLen > 0)
    .map((r) => ({ cidr: `${r.dst}/${r.dstLen}`, dev: r.oif ? names.get(r.oif) : undefined }))
    .filter((r) => r.dev !== ownBridge);
}

/** Creates (or finds) the bridge and subnet of a network. Idempotent. */
export function ensureNetwork(o: NetworkOptions): NetworkInfo {
  const rt = new Rtnl();
  try {
    if (o.external) return ensureExternal(rt, o, o.external.bridge);
    const bridgeName = o.bridgeName ?? bridgeNameFor(o.root, o.project, o.name);
    if (bridgeName.length > 15) {
      throw new TscError('NETWORK', `bridge name ${bridgeName} of network ${o.name} is longer than 15 characters`);
    }
    const links = rt.listLinks();
    const alloc = allocateSubnet(o.root, {
      project: o.project,
      network: o.name,
      subnet: o.subnet,
      gateway: o.gateway,
      hostRoutes: hostRoutes(rt, links, bridgeName),
    });
    const prefixLen = parseCidr(alloc.subnet).prefix;
    let link = links.find((l) => l.name === bridgeName);
    let created = false;
    try {
      if (link && link.kind !== 'bridge') {
        throw new TscError('NETWORK', `link ${bridgeName} for network ${o.name} exists but is a ${link.kind || 'plain'} device, not a bridge`);
      }
      if (!link) {
        journalAdd(o.root, o.project, bridgeName);
        rt.createBridge(bridgeName, {
          mtu: o.mtu || undefined,
          alias: linkAlias(o.root, o.project, o.name),
          mac: bridgeMacFor(o.root, o.project, o.name),
        });
        created = true;
        link = rt.requireLink(bridgeName);
      } else if (!link.alias) {
        // made by a run killed before it named the bridge: name it, so crash cleanup finds it
        rt.setAlias(bridgeName, linkAlias(o.root, o.project, o.name));
      }
      const addrs = rt.listAddresses().filter((a) => a.index === link!.index);
      if (!addrs.some((a) => a.address === alloc.gateway && a.prefixLen === prefixLen)) {
        rt.addAddress(link.index, alloc.gateway, prefixLen, `bridge ${bridgeName} (network ${o.name})`);
      }
      if (!link.up) rt.setLink(link.index, { up: true }, bridgeName);
      firewallAdd({ bridge: bridgeName, subnet: alloc.subnet, internal: o.internal, owner: linkAlias(o.root, o.project, o.name) });
      return {
        root: o.root,
        project: o.project,
        name: o.name,
        bridgeName,
        subnet: alloc.subnet,
        gateway: alloc.gateway,
        prefixLen,
        internal: o.internal,
        mtu: o.mtu || link.mtu || 1500,
        external: false,
      };
    } catch (e) {
      if (created) {
        rt.deleteLinkByName(bridgeName);
        journalRemove(o.root, [bridgeName]);
      }
      releaseNetwork(o.root, o.project, o.name);
      throw e;
    }
  } finally {
    rt.close();
  }
}

function ensureExternal(rt: Rtnl, o: NetworkOptions, bridge: string): NetworkInfo {
  const link = rt.getLink(bridge);
  if (!link || link.kind !== 'bridge') {
    throw new TscError('NETWORK', `external network ${o.name}: bridge ${bridge} does not exist${link ? ' (it is not a bridge)' : ''}`, {
      hint: 'create it first, or drop `external: true` to let tscompose create the network',
    });
  }
  const addr = rt.listAddresses().find((a) => a.index === link.index);
  if (!addr) {
    throw new TscError('NETWORK', `external network ${o.name}: bridge ${bridge} has no IPv4 address to take a subnet from`);
  }
  const base = (ipToInt(addr.address) & maskOf(addr.prefixLen)) >>> 0;
  const subnet = `${intToIp(base)}/${addr.prefixLen}`;
  allocateSubnet(o.root, {
    project: o.project,
    network: o.name,
    hostRoutes: [],
    external: { subnet, gateway: addr.address },
  });
  return {
    root: o.root,
    project: o.project,
    name: o.name,
    bridgeName: bridge,
    subnet,
    gateway: addr.address,
    prefixLen: addr.prefixLen,
    internal: o.internal,
    mtu: link.mtu,
    external: true,
  };
}

/** Deletes a network's bridge (never an external one), its leftover veths and its allocation. */
export function removeNetwork(net: NetworkInfo): void {
  const rt = new Rtnl();
  try {
    const alias = linkAlias(net.root, net.project, net.name);
    const links = rt.listLinks();
    const gone: string[] = [];
    for (const l of links) {
      if (l.alias.startsWith(alias + ':')) {
        rt.deleteLinkByName(l.name);
        gone.push(l.name);
      }
    }
    if (!net.external) {
      rt.deleteLinkByName(net.bridgeName);
      gone.push(net.bridgeName);
    }
    journalRemove(net.root, gone);
  } finally {
    rt.close();
  }
  if (!net.external) firewallRemove([net.bridgeName]);
  releaseNetwork(net.root, net.project, net.name);
}
