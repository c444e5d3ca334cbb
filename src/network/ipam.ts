/**
 * IP address management, shared by every project under one state root through the registry
 * file <root>/network/ipam.json.
 *
 * Default pool (the same shape as Docker's): the /16s 172.17.0.0/16 ... 172.31.0.0/16, then
 * 192.168.0.0/16 cut into /20s. A network gets the first candidate that overlaps neither a
 * subnet held by any project in the registry nor a route of the host (the host's routing
 * table is read through netlink by the caller; the default route is ignored). A configured
 * `ipam.config[].subnet` / `gateway` is taken as given after the same checks; the gateway
 * defaults to the first host address. Container addresses are handed out upwards from the
 * gateway, skipping the network, broadcast and gateway addresses; `ipv4_address` is honoured
 * when free.
 */
import path from 'node:path';
import { TscError } from '../common/errors.js';
import { type Cidr, cidrSize, cidrString, contains, intToIp, ipToInt, overlaps, parseCidr } from './ip.js';
import { layout } from '../common/layout.js';
import { readJson, updateRegistry } from './registry.js';

export interface IpamNetwork {
  project: string;
  network: string;
  subnet: string;
  gateway: string;
  /** an external bridge's subnet is not ours: it only scopes address allocation */
  external: boolean;
  /** address → container name */
  addresses: Record<string, string>;
}

export interface IpamState {
  networks: Record<string, IpamNetwork>;
}

export interface HostRoute {
  /** destination in CIDR form */
  cidr: string;
  /** the device it goes out of, when known */
  dev?: string;
}

export function ipamFile(root: string): string {
  return path.join(layout.network(root), 'ipam.json');
}

const empty = (): IpamState => ({ networks: {} });

export function networkKey(project: string, network: string): string {
  return `${project}/${network}`;
}

/** The default pool, in the order candidates are tried. */
export function* defaultPool(): Generator<Cidr> {
  for (let b = 17; b <= 31; b++) yield parseCidr(`172.${b}.0.0/16`);
  for (let c = 0; c < 256; c += 16) yield parseCidr(`192.168.${c}.0/20`);
}

export interface SubnetRequest {
  project: string;
  network: string;
  subnet?: string;
  gateway?: string;
  /** the host's routes (ignored ones already filtered out by the caller) */
  hostRoutes: HostRoute[];
  /** for an external bridge: its subnet and address, taken as they are */
  external?: { subnet: string; gateway: string };
}

/** Pure choice of a subnet given the registry state (exported for unit tests). */
export function chooseSubnet(state: IpamState, req: SubnetRequest): { subnet: string; gateway: string } {
  const key = networkKey(req.project, req.network);
  const taken: Array<{ cidr: Cidr; by: string }> = [];
  for (const [k, n] of Object.entries(state.networks)) {
    if (k === key || n.external) continue;
    taken.push({ cidr: parseCidr(n.subnet), by: `network ${n.network} of project ${n.project}` });
  }
  for (const r of req.hostRoutes) {
    const c = parseCidr(r.cidr);
    if (c.prefix === 0) continue;
    taken.push({ cidr: c, by: `the host's route ${r.cidr}${r.dev ? ` on ${r.dev}` : ''}` });
  }
  if (req.subnet) {
    const c = parseCidr(req.subnet);
    if (c.prefix > 30) {
      throw new TscError('NETWORK_IPAM', `subnet ${req.subnet} of network ${req.network} is too small`, {
        hint: 'use a prefix of /30 or shorter',
      });
    }
    const clash = taken.find((t) => overlaps(t.cidr, c));
    if (clash) {
      throw new TscError('NETWORK_IPAM', `subnet ${req.subnet} of network ${req.network} overlaps ${clash.by}`, {
        hint: 'choose another ipam.config subnet, or remove the ipam config to get a free one',
      });
    }
    const gw = req.gateway ?? intToIp(c.base + 1);
    checkHost(c, gw, `gateway ${gw} of network ${req.network}`);
    return { subnet: cidrString(c), gateway: gw };
  }
  if (req.gateway) {
    throw new TscError('NETWORK_IPAM', `network ${req.network} sets a gateway without a subnet`, {
      hint: 'set ipam.config[].subnet too',
    });
  }
  for (const c of defaultPool()) {
    if (!taken.some((t) => overlaps(t.cidr, c))) return { subnet: cidrString(c), gateway: intToIp(c.base + 1) };
  }
  throw new TscError('NETWORK_IPAM', `no free subnet left in the default pool for network ${req.network}`, {
    hint: 'remove unused projects (tscompose down) or set ipam.config subnets',
  });
}

function checkHost(c: Cidr, ip: string, what: string): number {
  const n = ipToInt(ip);
  if (!contains(c, n) || n === c.base || n === c.base + cidrSize(c) - 1) {
    throw new TscError('NETWORK_IPAM', `${what} is not a usable host address of ${cidrString(c)}`);
  }
  return n;
}

/** Allocates (or returns the existing) subnet of a network. */
export function allocateSubnet(root: string, req: SubnetRequest): { subnet: string; gateway: string } {
  return updateRegistry(ipamFile(root), empty, (s) => {
    const key = networkKey(req.project, req.network);
    const cur = s.networks[key];
    if (cur && !req.external && (!req.subnet || parseCidr(req.subnet).base === parseCidr(cur.subnet).base)) {
      return { subnet: cur.subnet, gateway: cur.gateway };
    }
    const chosen = req.external ?? chooseSubnet(s, req);
    s.networks[key] = {
      project: req.project,
      network: req.network,
      subnet: chosen.subnet,
      gateway: chosen.gateway,
      external: !!req.external,
      addresses: cur?.addresses ?? {},
    };
    return chosen;
  });
}

/** Pure choice of an address (exported for unit tests). */
export function chooseAddress(state: IpamState, key: string, container: string, requested?: string): string {
  const net = state.networks[key];
  if (!net) throw new TscError('NETWORK_IPAM', `network ${key} has no address allocation`, { hint: 'create the network first' });
  const c = parseCidr(net.subnet);
  // Addresses in use on this subnet by anyone (an external bridge may be shared by projects).
  const used = new Map<string, string>();
  for (const [k, n] of Object.entries(state.networks)) {
    if (k !== key && n.subnet !== net.subnet) continue;
    for (const [ip, owner] of Object.entries(n.addresses)) used.set(ip, `${owner} (project ${n.project})`);
  }
  const mine = Object.entries(net.addresses).find(([, owner]) => owner === container)?.[0];
  if (requested) {
    checkHost(c, requested, `address ${requested} of ${container}`);
    if (requested === net.gateway) {
      throw new TscError('NETWORK_IPAM', `address ${requested} of ${container} is the gateway of network ${net.network}`);
    }
    const holder = used.get(requested);
    if (holder && net.addresses[requested] !== container) {
      throw new TscError('NETWORK_IPAM', `address ${requested} on network ${net.network} is already used by ${holder}`);
    }
    return requested;
  }
  if (mine) return mine;
  const gw = ipToInt(net.gateway);
  const last = c.base + cidrSize(c) - 2;
  for (let n = c.base + 1; n <= last; n++) {
    if (n === gw) continue;
    const ip = intToIp(n);
    if (!used.has(ip)) return ip;
  }
  throw new TscError('NETWORK_IPAM', `network ${net.network} (${net.subnet}) has no free address left for ${container}`);
}

export function allocateAddress(root: string, project: string, network: string, container: string, requested?: string): string {
  return updateRegistry(ipamFile(root), empty, (s) => {
    const key = networkKey(project, network);
    const ip = chooseAddress(s, key, container, requested);
    const net = s.networks[key];
    for (const [a, owner] of Object.entries(net.addresses)) if (owner === container) delete net.addresses[a];
    net.addresses[ip] = container;
    return ip;
  });
}

export function releaseAddress(root: string, project: string, network: string, container: string): void {
  releaseAddresses(root, [{ project, network, container }]);
}

/** releaseAddress for many containers, in one update of the registry. */
export function releaseAddresses(root: string, items: Array<{ project: string; network: string; container: string }>): void {
  if (!items.length) return;
  updateRegistry(ipamFile(root), empty, (s) => {
    for (const { project, network, container } of items) {
      const net = s.networks[networkKey(project, network)];
      if (!net) continue;
      for (const [a, owner] of Object.entries(net.addresses)) if (owner === container) delete net.addresses[a];
    }
  });
}

export function releaseNetwork(root: string, project: string, network: string): void {
  updateRegistry(ipamFile(root), empty, (s) => {
    delete s.networks[networkKey(project, network)];
  });
}

/** Drops every allocation of a project; returns how many networks it held. */
export function releaseProject(root: string, project: string): number {
  return updateRegistry(ipamFile(root), empty, (s) => {
    let n = 0;
    for (const [k, v] of Object.entries(s.networks)) {
      if (v.project === project) {
        delete s.networks[k];
        n++;
      }
    }
    return n;
  });
}

export function readIpam(root: string): IpamState {
  return readJson(ipamFile(root), empty);
}
