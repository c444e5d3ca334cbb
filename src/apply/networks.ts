/**
 * The project's networks: bridges made from the file's definitions (and checked against it),
 * a container's attachment to them, what the supervisor needs to serve DNS and published
 * ports for it, the packet-filter rules, and their removal.
 */
import { existsSync } from 'node:fs';
import { TscError } from '../common/errors.js';
import type { Service } from '../compose/index.js';
import {
  attachContainer,
  cidrString,
  cleanupProject,
  ensureNetwork,
  firewallAdd,
  linkAlias,
  parseCidr,
  removeNetwork,
  type NetworkInfo,
  type PortMapping,
} from '../network/index.js';
import type { ContainerRecord, NetworkRecord } from '../state/index.js';
import type { RuntimeContext } from './context.js';
import { serviceLinks } from './links.js';
import type { AttachedNetwork } from './run-config.js';

/** What the supervisor's network hook needs to serve DNS and published ports for a container. */
export interface ContainerNetworkData {
  project: string;
  service: string;
  /** per network: name, gateway, whether it is internal, and the names this container answers to there */
  networks: Array<{ name: string; gateway: string; internal: boolean; address: string; names: string[] }>;
  /** the address published ports forward to (the first network's) */
  targetIp?: string;
  ports: PortMapping[];
  /** `links:` aliases this container alone resolves, to the name they stand for (a service) */
  links?: Array<{ alias: string; target: string }>;
}

/** Network keys a service attaches to, in interface order (eth0 first). */
export function serviceNetworkKeys(s: Service): string[] {
  if (s.network_mode) return [];
  const entries = Object.entries(s.networks);
  // higher priority first, then the order of the file (Compose sorts by priority, then name)
  entries.sort(([a, x], [b, y]) => (y?.priority ?? 0) - (x?.priority ?? 0) || a.localeCompare(b));
  return entries.map(([k]) => k);
}

/** The network layer's view of a recorded network. */
export function networkInfo(ctx: Pick<RuntimeContext, 'root' | 'name'>, key: string, rec: NetworkRecord): NetworkInfo {
  const prefixLen = Number(rec.subnet.split('/')[1] ?? 24);
  return {
    root: ctx.root,
    project: ctx.name,
    name: rec.name,
    bridgeName: rec.bridge,
    subnet: rec.subnet,
    gateway: rec.gateway,
    prefixLen,
    internal: rec.internal ?? false,
    mtu: Number((rec as { mtu?: number }).mtu ?? 1500),
    external: rec.external ?? false,
  };
}

/**
 * Refuses to go on when a network that exists differs from its definition in the file
 * (subnet, gateway, internal, MTU, name): a bridge cannot change while containers use it, and
 * going on would silently keep the old one. Compose refuses the same way. Checked before any
 * change is made. `keys` limits the check to those networks.
 */
export function checkNetworks(ctx: RuntimeContext, keys?: string[]): void {
  const diffs: string[] = [];
  for (const [key, rec] of Object.entries(ctx.state.networks)) {
    if (keys && !keys.includes(key)) continue;
    const net = ctx.project.networks[key];
    if (!net || rec.external || net.external) continue;
    const d: string[] = [];
    const ipam = net.ipam?.config?.[0];
    if (net.name !== rec.name) d.push(`name ${rec.name} → ${net.name}`);
    if (ipam?.subnet) {
      let want = ipam.subnet;
      try {
        want = cidrString(parseCidr(ipam.subnet));
      } catch {
        // compared as written; the network layer reports a malformed subnet
      }
      if (want !== rec.subnet) d.push(`subnet ${rec.subnet} → ${ipam.subnet}`);
    }
    if (ipam?.gateway && ipam.gateway !== rec.gateway) d.push(`gateway ${rec.gateway} → ${ipam.gateway}`);
    if (Boolean(net.internal) !== Boolean(rec.internal)) d.push(`internal ${Boolean(rec.internal)} → ${Boolean(net.internal)}`);
    const mtu = Number(net.driver_opts?.['com.docker.network.driver.mtu'] ?? 0) || undefined;
    if (mtu !== undefined && rec.mtu !== undefined && mtu !== rec.mtu) d.push(`mtu ${rec.mtu} → ${mtu}`);
    if (d.length) diffs.push(`network "${key}" (${d.join(', ')})`);
  }
  if (diffs.length) {
    throw new TscError(
      'NETWORK',
      `project ${ctx.name}: ${diffs.join('; ')}: the file asks for another configuration than the network that exists, and a network cannot change while it exists. Nothing was changed.`,
      {
        hint: 'recreate it: `tscompose down` then `tscompose up` (named volumes are kept)',
      },
    );
  }
}

/**
 * Puts back the packet-filter rules of the project's existing networks (a firewall reload, or
 * Docker starting after us, may have removed them or put a DROP ahead of them).
 */
export function reassertFirewall(ctx: RuntimeContext): void {
  const entries = Object.entries(ctx.state.networks)
    .filter(([, rec]) => !rec.external && existsSync(`/sys/class/net/${rec.bridge}`))
    .map(([key, rec]) => ({
      bridge: rec.bridge,
      subnet: rec.subnet,
      internal: !!rec.internal,
      owner: linkAlias(ctx.root, ctx.name, ctx.project.networks[key]?.name ?? rec.name),
    }));
  if (entries.length) firewallAdd(...entries);
}

/** Creates the network's bridge and subnet when missing, and records it; idempotent. */
export async function ensureProjectNetwork(ctx: RuntimeContext, key: string): Promise<NetworkInfo> {
  const net = ctx.project.networks[key];
  if (!net) throw new TscError('SPEC_REFERENCE', `network "${key}" is not defined in project "${ctx.name}"`);
  if (net.driver && net.driver !== 'bridge') {
    throw new TscError('SPEC_UNSUPPORTED', `network "${key}" uses driver "${net.driver}": tscompose supports bridge networks only`);
  }
  const ipam = net.ipam?.config?.[0];
  const mtu = Number(net.driver_opts?.['com.docker.network.driver.mtu'] ?? 0) || undefined;
  const info = ensureNetwork({
    root: ctx.root,
    project: ctx.name,
    name: net.name,
    subnet: ipam?.subnet,
    gateway: ipam?.gateway,
    internal: net.internal,
    mtu,
    external: net.external ? { bridge: net.name } : undefined,
  });
  const prev = ctx.state.networks[key];
  ctx.state.networks[key] = {
    ...(prev ?? {}),
    name: info.name,
    bridge: info.bridgeName,
    subnet: `${info.subnet.split('/')[0]}/${info.prefixLen}`,
    gateway: info.gateway,
    external: info.external,
    internal: info.internal,
    mtu: info.mtu,
    created: prev?.created ?? new Date().toISOString(),
  } as NetworkRecord;
  await ctx.save();
  return info;
}

/**
 * Attaches a new container's netns to each of its service's networks (creating the missing
 * ones), in interface order, and records its addresses; the caller saves the record.
 */
export async function attachServiceNetworks(ctx: RuntimeContext, s: Service, record: ContainerRecord, netnsPath: string): Promise<AttachedNetwork[]> {
  const attached: AttachedNetwork[] = [];
  const keys = serviceNetworkKeys(s);
  for (let idx = 0; idx < keys.length; idx++) {
    const key = keys[idx]!;
    const rec = ctx.state.networks[key];
    // a recorded network whose bridge is gone (a kill during `down`) is made again
    const live = rec && (rec.external || existsSync(`/sys/class/net/${rec.bridge}`));
    const info = live ? networkInfo(ctx, key, rec) : await ensureProjectNetwork(ctx, key);
    const sn = s.networks[key];
    const att = attachContainer({ netnsPath, network: info, container: record.name, ifName: `eth${idx}`, address: sn?.ipv4_address });
    // Docker also answers to the short container id (the default hostname)
    const aliases = [...new Set([s.name, record.name, record.publicId!.slice(0, 12), ...(sn?.aliases ?? [])])];
    attached.push({ key, name: info.name, address: att.address, gateway: att.gateway, internal: info.internal, aliases });
    record.addresses![key] = { ipv4: att.address, mac: att.mac, aliases };
  }
  return attached;
}

/** What the supervisor serves for a container: its names on each network, published ports, links. */
export function containerNetworkData(
  ctx: Pick<RuntimeContext, 'name'>,
  s: Service,
  attached: AttachedNetwork[],
  hostNetwork: boolean,
  ports: PortMapping[],
): ContainerNetworkData {
  const data: ContainerNetworkData = {
    project: ctx.name,
    service: s.name,
    networks: attached.map((a) => ({ name: a.name, gateway: a.gateway, internal: a.internal, address: a.address, names: a.aliases })),
    targetIp: attached[0]?.address ?? (hostNetwork ? '127.0.0.1' : undefined),
    ports,
    links: serviceLinks(s).map((l) => ({ alias: l.alias, target: l.service })),
  };
  if (data.ports.length > 0 && !data.targetIp) {
    throw new TscError('NETWORK', `service "${s.name}" publishes ports but has no network address (network_mode ${s.network_mode ?? 'none'})`);
  }
  return data;
}

/** Removes the project's networks (after its containers) and whatever a crash left behind. */
export async function removeProjectNetworks(ctx: RuntimeContext): Promise<void> {
  for (const [key, rec] of Object.entries(ctx.state.networks)) {
    if (!rec.external) removeNetwork(networkInfo(ctx, key, rec));
    delete ctx.state.networks[key];
  }
  cleanupProject(ctx.root, ctx.name);
  await ctx.save();
}

/** The service's `ports:` as port-proxy mappings. */
export function portMappings(s: Service): PortMapping[] {
  const out: PortMapping[] = [];
  for (const p of s.ports) {
    if (p.protocol === 'sctp') throw new TscError('SPEC_UNSUPPORTED', `service "${s.name}": sctp ports are not supported`);
    const proto = p.protocol;
    const hostIp = p.host_ip || undefined;
    if (p.published === undefined || p.published === '') {
      out.push({ proto, hostIp, hostPort: 0, containerPort: p.target });
      continue;
    }
    const m = /^(\d+)(?:-(\d+))?$/.exec(p.published);
    if (!m) throw new TscError('SPEC_INVALID', `service "${s.name}": invalid published port "${p.published}"`);
    const start = Number(m[1]);
    const end = m[2] ? Number(m[2]) : undefined;
    out.push({ proto, hostIp, hostPort: start, hostPortEnd: end, containerPort: p.target });
  }
  return out;
}
