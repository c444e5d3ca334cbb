/** Contents of a container's /etc/hosts and /etc/resolv.conf. */

export interface HostsOptions {
  /** container hostname (and any further names for its own address) */
  hostname: string;
  names?: string[];
  /** the container's address on its first network; absent for network_mode none/host */
  address?: string;
  /** extra_hosts entries, "name:ip" already split */
  extraHosts?: Array<{ name: string; ip: string }>;
}

export function hostsFile(o: HostsOptions): string {
  const lines = [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'ff00::0\tip6-mcastprefix',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
  ];
  for (const h of o.extraHosts ?? []) lines.push(`${h.ip}\t${h.name}`);
  const own = [o.hostname, ...(o.names ?? []).filter((n) => n !== o.hostname)];
  if (o.address) lines.push(`${o.address}\t${own.join(' ')}`);
  else lines.push(`127.0.1.1\t${own.join(' ')}`);
  return lines.join('\n') + '\n';
}

export interface ResolvOptions {
  /** the resolver address: the gateway of the container's first network */
  nameserver: string;
  search?: string[];
  options?: string[];
}

/**
 * resolv.conf pointing at the project's resolver. `ndots:0` keeps single-label service names
 * from being tried against search domains first.
 */
export function resolvConf(o: ResolvOptions): string {
  const lines = [`nameserver ${o.nameserver}`];
  if (o.search && o.search.length) lines.push(`search ${o.search.join(' ')}`);
  lines.push(`options ${(o.options && o.options.length ? o.options : ['ndots:0']).join(' ')}`);
  return lines.join('\n') + '\n';
}

/** Every IPv4 `nameserver` of resolv.conf text, in order. */
export function hostResolvers(resolvConfText: string): string[] {
  const out: string[] = [];
  for (const line of resolvConfText.split('\n')) {
    const m = /^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)\s*$/.exec(line);
    if (m && !out.includes(m[1])) out.push(m[1]);
  }
  return out;
}

const isLoopback = (ip: string) => ip.startsWith('127.');

/**
 * The resolvers the project's DNS forwards names it does not own to, as Docker chooses them:
 * the host's non-loopback nameservers; when the host only lists a loopback stub (systemd-resolved's
 * 127.0.0.53, dnsmasq's 127.0.0.1), the stub's own upstreams when known (`stubUpstreams`: the
 * text of /run/systemd/resolve/resolv.conf). Unlike Docker's resolver, ours runs in the host's
 * network namespace, so where no upstream is known the loopback stub itself is usable, and it
 * is used instead of Docker's fallback to public resolvers.
 */
export function upstreamResolvers(resolvConfText: string, stubUpstreams?: string): string[] {
  const all = hostResolvers(resolvConfText);
  const outside = all.filter((ip) => !isLoopback(ip));
  if (outside.length) return outside;
  const viaStub = stubUpstreams ? hostResolvers(stubUpstreams).filter((ip) => !isLoopback(ip)) : [];
  return viaStub.length ? viaStub : all;
}
