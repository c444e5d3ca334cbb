export { createNetns, deleteNetns, withNetns, openRtnlIn, isMounted } from './netns.js';
export { ensureNetwork, removeNetwork, type NetworkOptions, type NetworkInfo } from './bridges.js';
export {
  attachContainer,
  detachContainer,
  detachContainers,
  connectContainer,
  disconnectContainer,
  type AttachOptions,
  type Attachment,
  type ConnectOptions,
} from './attach.js';
export { cleanupProject, listProjectLinks, projectNetnsDir, type CleanupReport } from './cleanup.js';
export { firewallAdd, firewallSweep, firewallEntries, type FirewallEntry } from './firewall.js';
export { bridgeNameFor, vethNameFor, linkAlias, netnsPathFor } from './names.js';
export { readIpam, defaultPool, type IpamState } from './ipam.js';
export { parseCidr, cidrString } from './ip.js';
export { listPorts, findPortHolder, type PortEntry, type Proto } from './port-registry.js';
export { hostsFile, resolvConf, hostResolvers, upstreamResolvers, type HostsOptions, type ResolvOptions } from './etc-files.js';
export { Rtnl, type LinkInfo, type AddrInfo, type RouteInfo } from './rtnl.js';
export { DnsServer, dnsEntriesFor, type DnsEntry, type DnsServerOptions } from './dns.js';
export { PortProxy, expandPortRange, type PortMapping, type PublishedPort, type PortProxyOptions } from './ports.js';
