/**
 * The network services that live in the supervisor next to the containers: service-name DNS
 * on each bridge gateway (answers follow container starts and exits) and the published-port
 * proxies. Both are driven by the run request's `network` data, made by the apply layer.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { DnsServer, PortProxy, upstreamResolvers, type PortMapping, type PublishedPort } from '../network/index.js';
import type { HookContext, SupervisorHook } from './hooks.js';
import { bundleFiles } from './paths.js';

/** Mirrors apply's ContainerNetworkData (plain data crossing the socket). */
interface NetworkData {
  project: string;
  service: string;
  networks: Array<{ name: string; gateway: string; internal?: boolean; address: string; names: string[] }>;
  targetIp?: string;
  ports: PortMapping[];
  links?: Array<{ alias: string; target: string }>;
}

function dataOf(ctx: HookContext): NetworkData | undefined {
  const d = ctx.config.network as NetworkData | undefined;
  return d && Array.isArray(d.networks) ? d : undefined;
}

/** systemd-resolved's list of the upstreams behind its 127.0.0.53 stub */
const RESOLVED_UPSTREAMS = '/run/systemd/resolve/resolv.conf';

/**
 * The host's resolvers for names the project's DNS does not own, re-read when the file
 * changes (DHCP, VPNs and systemd-resolved rewrite it while a project runs). The file is
 * /etc/resolv.conf, or TSCOMPOSE_RESOLV_CONF (the tests point it at a test host's resolver).
 */
export function hostUpstreams(file = process.env.TSCOMPOSE_RESOLV_CONF || '/etc/resolv.conf'): () => string[] {
  let seen = '';
  let cached: string[] = [];
  const read = (f: string) => {
    try {
      return readFileSync(f, 'utf8');
    } catch {
      return '';
    }
  };
  return () => {
    let stamp: string;
    try {
      const st = statSync(file);
      stamp = `${st.ino}:${st.mtimeMs}:${st.size}`;
    } catch {
      stamp = 'missing';
    }
    if (stamp !== seen) {
      seen = stamp;
      cached = upstreamResolvers(read(file), read(RESOLVED_UPSTREAMS));
    }
    return cached;
  };
}

export function networkHooks(root: string, project: string, log: (line: string) => void): SupervisorHook[] {
  const dns = new DnsServer({ upstreams: hostUpstreams() });
  const proxy = new PortProxy({ root, project });
  const served = new Set<string>();

  const dnsHook: SupervisorHook = {
    name: 'dns',
    async onContainerStart(ctx) {
      const d = dataOf(ctx);
      if (!d || d.networks.length === 0) return;
      for (const n of d.networks) {
        if (!served.has(n.name)) {
          await dns.addNetwork(n.name, n.gateway, { internal: !!n.internal });
          served.add(n.name);
        }
      }
      dns.setContainer(
        ctx.id,
        d.networks.map((n) => ({ network: n.name, address: n.address, names: n.names })),
      );
      // `links:` aliases: answered to this container only
      dns.setLinks(ctx.id, Object.fromEntries((d.links ?? []).map((l) => [l.alias, l.target])));
    },
    onContainerExit(ctx) {
      dns.removeContainer(ctx.id);
    },
    onContainerRemove(ctx) {
      dns.removeContainer(ctx.id);
    },
    async close() {
      await dns.close();
    },
  };

  /** Binds the container's published ports; keeps the host ports chosen the first time. */
  const publish = async (ctx: HookContext): Promise<void> => {
    const d = dataOf(ctx);
    if (!d || d.ports.length === 0 || !d.targetIp) return;
    if (proxy.list().some((p) => p.container === ctx.id)) return;
    const file = bundleFiles(ctx.config.spec.bundleDir).ports;
    let previous: PublishedPort[] = [];
    try {
      previous = JSON.parse(readFileSync(file, 'utf8')) as PublishedPort[];
    } catch {
      previous = [];
    }
    const mappings = d.ports.map((m) => {
      if (m.hostPort) return m;
      const prev = previous.find((p) => p.containerPort === m.containerPort && p.proto === m.proto);
      return prev ? { ...m, hostPort: prev.hostPort } : m;
    });
    const published = await proxy.publish(d.service, ctx.id, d.targetIp, mappings);
    writeFileSync(file, JSON.stringify(published));
    log(`published ${published.map((p) => `${p.hostIp}:${p.hostPort}->${p.containerPort}/${p.proto}`).join(', ')} for ${ctx.id}`);
  };

  const portsHook: SupervisorHook = {
    name: 'ports',
    // a port that cannot be bound fails the start, before the container runs
    beforeStart: publish,
    // a re-adopted container (supervisor restarted) gets its ports back
    async onContainerStart(ctx) {
      await publish(ctx);
    },
    async onContainerExit(ctx) {
      await proxy.unpublish(ctx.id);
    },
    async onContainerRemove(ctx) {
      await proxy.unpublish(ctx.id);
    },
    async close() {
      await proxy.close();
    },
  };

  return [dnsHook, portsHook];
}
