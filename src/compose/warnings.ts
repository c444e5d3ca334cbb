/** Stage "warnings": what the project asks for that tscompose keeps but does not act on, and waits that can never end. */
import type { LoadedModel } from './load-context.js';
import type { Network, Service, Volume } from './schema.js';

export function supportWarnings(
  all: Record<string, Service>,
  enabled: Set<string>,
  networks: Record<string, Network>,
  volumes: Record<string, Volume>,
  model: LoadedModel,
  warnings: string[],
): void {
  for (const [k, n] of Object.entries(networks)) {
    if (n.external) continue;
    if (n.driver !== undefined && n.driver !== 'bridge')
      warnings.push(
        `networks.${k}.driver ${JSON.stringify(n.driver)} is not supported by tscompose (only bridge networks): it is kept but the network is created as a bridge`,
      );
    if (n.ipam?.driver !== undefined && n.ipam.driver !== 'default')
      warnings.push(`networks.${k}.ipam.driver ${JSON.stringify(n.ipam.driver)} is not supported by tscompose: addresses come from its own IPAM`);
    if (n.enable_ipv6) warnings.push(`networks.${k}.enable_ipv6 is not supported by tscompose yet: the network gets IPv4 only`);
  }
  for (const [k, v] of Object.entries(volumes)) {
    if (!v.external && v.driver !== undefined && v.driver !== 'local')
      warnings.push(
        `volumes.${k}.driver ${JSON.stringify(v.driver)} is not supported by tscompose (only local volumes): it is kept but the volume is a local directory`,
      );
  }
  for (const s of Object.values(all).filter((x) => enabled.has(x.name))) {
    s.volumes.forEach((v, i) => {
      if (v.type === 'cluster' || v.type === 'npipe' || v.type === 'image')
        warnings.push(`services.${s.name}.volumes[${i}]: mounts of type ${v.type} are not supported by tscompose yet and are skipped`);
      if (v.bind?.selinux)
        warnings.push(`services.${s.name}.volumes[${i}]: SELinux relabeling (${v.bind.selinux}) is not supported by tscompose and is ignored`);
    });
  }
  for (const kind of ['secrets', 'configs', 'models'] as const) {
    if (Object.keys(model[kind]).length > 0) warnings.push(`top-level ${kind} are not supported by tscompose yet: they are kept but have no effect`);
  }

  for (const n of [...enabled].sort()) {
    for (const [dep, cfg] of Object.entries(all[n].depends_on)) {
      const h = all[dep]?.healthcheck;
      if (cfg.condition === 'service_healthy' && h?.disable) {
        warnings.push(
          `service ${JSON.stringify(n)} waits for ${JSON.stringify(dep)} to be healthy, but ${dep}'s healthcheck is disabled: it will never become healthy`,
        );
      } else if (cfg.condition === 'service_healthy' && h === undefined) {
        warnings.push(
          `service ${JSON.stringify(n)} waits for ${JSON.stringify(dep)} to be healthy, but ${dep} declares no healthcheck: its image must define one`,
        );
      }
    }
  }
}
