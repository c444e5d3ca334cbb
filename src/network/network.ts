/**
 * Compose networks on the host: one Linux bridge per network with the gateway address on it,
 * one veth pair per container attachment (the container end created directly inside the
 * container's network namespace under its final name, eth0, eth1...), and crash cleanup that
 * finds a project's links by their alias.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { TscError } from '../common/errors.js';
import { layout } from '../common/layout.js';
import { intToIp, maskOf, parseCidr, ipToInt } from './ip.js';
import { allocateAddress, allocateSubnet, releaseAddress, releaseAddresses, releaseNetwork, releaseProject, type HostRoute } from './ipam.js';
import { bridgeMacFor, bridgeNameFor, containerMacFor, linkAlias, projectAliasPrefix, vethNameFor } from './names.js';
import { firewallAdd, firewallRemove, firewallSweep } from './firewall.js';
import { closeNsFd, createNetns, deleteNetns, isMounted, openNsFd, withNetns } from './netns.js';
import { journalAdd, journalOf, journalRemove } from './link-journal.js';
import { releaseProjectPorts } from './port-registry.js';
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

export interface AttachOptions {
  /** the container's persistent netns file (createNetns) */
  netnsPath: string;
  network: NetworkInfo;
  /** container name: owner of the address and part of the host link's name */
  container: string;
  /** name inside the container: eth0 for the first network, eth1... */
  ifName: string;
  /** ipv4_address from the compose file */
  address?: string;
  mtu?: number;
}

export interface Attachment {
  network: string;
  ifName: string;
  hostIfName: string;
  address: string;
  prefixLen: number;
  gateway: string;
  mac: string;
  /** true when this attachment set the container's default route */
  defaultRoute: boolean;
}

/**
 * Connects a container's namespace to a network. The default route goes through the first
 * non-internal network attached; internal networks never get one.
 */
export function attachContainer(o: AttachOptions): Attachment {
  const net = o.network;
  const address = allocateAddress(net.root, net.project, net.name, o.container, o.address);
  const hostIf = vethNameFor(net.root, net.project, net.name, o.container);
  const mtu = o.mtu || net.mtu || undefined;
  const rt = new Rtnl();
  let created = false;
  try {
    const bridge = rt.requireLink(net.bridgeName);
    rt.deleteLinkByName(hostIf); // a leftover of a crashed attach
    journalAdd(net.root, net.project, hostIf);
    const nsFd = openNsFd(o.netnsPath);
    try {
      rt.createVeth(hostIf, o.ifName, nsFd, { mtu, alias: linkAlias(net.root, net.project, net.name, o.container), peerMac: containerMacFor(address) });
      created = true;
    } finally {
      closeNsFd(nsFd);
    }
    const host = rt.requireLink(hostIf);
    rt.setLink(host.index, { master: bridge.index }, hostIf);
    rt.setLink(host.index, { up: true }, hostIf);
    return withNetns(o.netnsPath, (inner) => {
      const label = `${o.ifName} of ${o.container}`;
      const dev = inner.requireLink(o.ifName);
      inner.addAddress(dev.index, address, net.prefixLen, label);
      inner.setLink(dev.index, { up: true }, label);
      const lo = inner.requireLink('lo');
      if (!lo.up) inner.setLink(lo.index, { up: true }, `lo of ${o.container}`);
      let defaultRoute = false;
      if (!net.internal && !inner.listRoutes().some((r) => r.table === 254 && r.dstLen === 0)) {
        inner.addRoute({ dst: '0.0.0.0', dstLen: 0, gateway: net.gateway, oif: dev.index }, `${o.container} via network ${net.name}`);
        defaultRoute = true;
      }
      return {
        network: net.name,
        ifName: o.ifName,
        hostIfName: hostIf,
        address,
        prefixLen: net.prefixLen,
        gateway: net.gateway,
        mac: dev.mac,
        defaultRoute,
      };
    });
  } catch (e) {
    if (created) rt.deleteLinkByName(hostIf);
    journalRemove(net.root, [hostIf]);
    releaseAddress(net.root, net.project, net.name, o.container);
    throw e;
  } finally {
    rt.close();
  }
}

/**
 * Removes a container's link to a network (its peer inside the namespace goes with it).
 * With `withNetns`, the link is left to the kernel: the caller is about to delete the
 * container's netns file, and a namespace that nothing holds any more takes its veth pairs with
 * it in the kernel's batched cleanup. Deleting veths one by one costs a synchronous RCU wait
 * each (~20 ms), which made `down` of 30 containers spend 0.7 s in netlink alone. A link that
 * outlives its namespace is still found by its alias (cleanupProject) or replaced on attach.
 */
export function detachContainer(o: { network: NetworkInfo; container: string; withNetns?: boolean }): void {
  detachContainers([o]);
}

/**
 * detachContainer for many attachments at once (down): one update of the link journal and one
 * of the address registry for all of them, instead of two locked writes each.
 */
export function detachContainers(items: Array<{ network: NetworkInfo; container: string; withNetns?: boolean }>): void {
  if (!items.length) return;
  const names = items.map((o) => vethNameFor(o.network.root, o.network.project, o.network.name, o.container));
  const deleting = items.filter((o) => !o.withNetns);
  if (deleting.length) {
    const rt = new Rtnl();
    try {
      for (const o of deleting) rt.deleteLinkByName(names[items.indexOf(o)]!);
    } finally {
      rt.close();
    }
  }
  // grouped by root: a caller may in principle pass networks of different state roots
  for (const root of new Set(items.map((o) => o.network.root))) {
    const mine = items.filter((o) => o.network.root === root);
    journalRemove(
      root,
      names.filter((_, i) => items[i]!.network.root === root),
    );
    releaseAddresses(
      root,
      mine.map((o) => ({ project: o.network.project, network: o.network.name, container: o.container })),
    );
  }
}

/** Every host link (bridges and veths) that belongs to a project, found by alias. */
export function listProjectLinks(root: string, project: string): LinkInfo[] {
  const rt = new Rtnl();
  try {
    const prefix = projectAliasPrefix(root, project);
    const journal = new Set(journalOf(root, project));
    return rt.listLinks().filter((l) => l.alias.startsWith(prefix) || journal.has(l.name));
  } finally {
    rt.close();
  }
}

export function projectNetnsDir(root: string, project: string): string {
  return layout.netnsDir(root, project);
}

export interface CleanupReport {
  links: string[];
  netns: string[];
  networks: number;
  ports: number;
}

/**
 * Removes every link, netns file, IP allocation and published-port entry of a project,
 * whatever state a crash left it in. Idempotent. External bridges are never touched
 * (they carry no alias of ours).
 */
export function cleanupProject(root: string, project: string): CleanupReport {
  const report: CleanupReport = { links: [], netns: [], networks: 0, ports: 0 };
  const rt = new Rtnl();
  try {
    const prefix = projectAliasPrefix(root, project);
    const journal = new Set(journalOf(root, project));
    const mine = rt.listLinks().filter((l) => l.alias.startsWith(prefix) || journal.has(l.name));
    // veths first (deleting one end removes its peer), then bridges
    mine.sort((a, b) => (a.kind === 'bridge' ? 1 : 0) - (b.kind === 'bridge' ? 1 : 0));
    for (const l of mine) if (rt.deleteLinkByName(l.name)) report.links.push(l.name);
    journalRemove(root, [...journal]);
  } finally {
    rt.close();
  }
  // the rules of bridges just deleted (or deleted by a crashed run) go with them
  firewallSweep();
  const dir = projectNetnsDir(root, project);
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    files = [];
  }
  for (const f of files) {
    deleteNetns(path.join(dir, f));
    report.netns.push(f);
  }
  report.networks = releaseProject(root, project);
  report.ports = releaseProjectPorts(root, project);
  return report;
}

export interface ConnectOptions {
  /** the container's netns file; created when missing (netnsPathFor(root, project, id)) */
  netnsPath: string;
  container: string;
  /** in order: the first becomes eth0 and, unless internal, carries the default route */
  networks: Array<{ network: NetworkInfo; address?: string }>;
  mtu?: number;
}

/**
 * Gives a container its namespace and every network attachment at once. On any failure the
 * attachments made so far (and the namespace, if this call created it) are removed again.
 */
export function connectContainer(o: ConnectOptions): Attachment[] {
  const made = !existsSync(o.netnsPath) || !isMounted(o.netnsPath);
  if (made) createNetns(o.netnsPath);
  const done: Attachment[] = [];
  try {
    o.networks.forEach((n, i) => {
      done.push(attachContainer({ netnsPath: o.netnsPath, network: n.network, container: o.container, ifName: `eth${i}`, address: n.address, mtu: o.mtu }));
    });
    return done;
  } catch (e) {
    for (let i = 0; i < done.length; i++) {
      try {
        detachContainer({ network: o.networks[i].network, container: o.container });
      } catch {
        /* the original failure is the one to report; cleanupProject removes the rest */
      }
    }
    if (made) deleteNetns(o.netnsPath);
    throw e;
  }
}

/** Undoes connectContainer: detaches every network and removes the namespace file. */
export function disconnectContainer(o: { netnsPath: string; container: string; networks: NetworkInfo[] }): void {
  for (const network of o.networks) detachContainer({ network, container: o.container });
  deleteNetns(o.netnsPath);
}
