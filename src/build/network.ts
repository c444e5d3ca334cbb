/**
 * The network of a build's RUN steps. "default" is a temporary bridge with egress (NAT through
 * the same packet-filter code as `up`), made at the first RUN that needs it and removed with
 * everything else of the build (links, addresses, rules) when the build ends, however it ends;
 * "none" and "host" need nothing here. The bridge belongs to the build's own project-like name
 * (`build.<hex>`, a name no Compose project can have), so a crashed build's network is found and
 * removed by the next build (scratch.ts).
 */
import { cleanupProject, ensureNetwork, type NetworkInfo } from '../network/index.js';

export interface BuildNetwork {
  mode: 'default' | 'none' | 'host';
  /** the build bridge, created on first use (mode "default" only) */
  ensure(): NetworkInfo;
  /** removes the bridge, its links, addresses and rules when they were made */
  cleanup(): void;
}

export function buildNetwork(root: string, project: string, mode: 'default' | 'none' | 'host'): BuildNetwork {
  let info: NetworkInfo | undefined;
  return {
    mode,
    ensure() {
      if (!info) info = ensureNetwork({ root, project, name: 'build', internal: false });
      return info;
    },
    cleanup() {
      if (info) cleanupProject(root, project);
      info = undefined;
    },
  };
}
