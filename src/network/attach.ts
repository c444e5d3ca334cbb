/**
 * A container on the project's networks: one veth pair per attachment, the container end
 * created directly inside the container's network namespace under its final name (eth0,
 * eth1...), its address from IPAM and the default route through the first non-internal network.
 */
import { allocateAddress, releaseAddress, releaseAddresses } from './ipam.js';
import { containerMacFor, linkAlias, vethNameFor } from './names.js';
import { closeNsFd, openNsFd, withNetns } from './netns.js';
import { journalAdd, journalRemove } from './link-journal.js';
import { Rtnl } from './rtnl.js';
import type { NetworkInfo } from './bridges.js';

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
