/**
 * Compose `links:` of a service: `db` or `db:alias`. The loader keeps them as strings (in
 * `unsupported.links` today) or, in a later model, as `{service, alias}`; both are read here.
 * The implied dependency is the loader's business; the runtime makes each alias resolve to the
 * linked service, for the linking service's containers only (Docker scopes a link alias to the
 * container that declares it).
 */
import type { Service } from '../compose/index.js';

export interface ServiceLink {
  /** the linked service */
  service: string;
  /** the name the linking containers know it by */
  alias: string;
}

export function serviceLinks(s: Service): ServiceLink[] {
  const raw = (s as { links?: unknown }).links ?? (s.unsupported as Record<string, unknown> | undefined)?.links;
  if (!Array.isArray(raw)) return [];
  const out: ServiceLink[] = [];
  for (const item of raw as unknown[]) {
    if (typeof item === 'string') {
      const [service, alias] = item.split(':', 2) as [string, string | undefined];
      if (service) out.push({ service, alias: alias || service });
    } else if (item && typeof item === 'object' && typeof (item as ServiceLink).service === 'string') {
      const l = item as { service: string; alias?: unknown };
      out.push({ service: l.service, alias: typeof l.alias === 'string' && l.alias ? l.alias : l.service });
    }
  }
  return out;
}
