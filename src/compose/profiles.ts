/**
 * Stage "profiles": which services are enabled (`--profile`, COMPOSE_PROFILES, `*`; services
 * named on the command line enable themselves and their dependencies), and, once env files are
 * read, what becomes of dependencies on disabled services.
 */
import { TscError } from '../common/errors.js';
import { hintFor } from './load-context.js';
import type { Service } from './schema.js';

/** The active profiles and the enabled services. Throws NO_SUCH_SERVICE for a named service that does not exist. */
export function selectServices(
  all: Record<string, Service>,
  profiles: string[] | undefined,
  services: string[] | undefined,
  lookupValue: (name: string) => string | undefined,
): { active: string[]; enabled: Set<string> } {
  const profileSrc = profiles ?? (lookupValue('COMPOSE_PROFILES') ?? '').split(',');
  const active = [...new Set(profileSrc.map((p) => p.trim()).filter(Boolean))];
  const enabled = new Set<string>();
  for (const s of Object.values(all)) {
    if (s.profiles.length === 0 || active.includes('*') || s.profiles.some((p) => active.includes(p))) enabled.add(s.name);
  }
  for (const want of services ?? []) {
    if (!Object.hasOwn(all, want)) throw new TscError('NO_SUCH_SERVICE', `no such service: ${want}`, { hint: hintFor(want, Object.keys(all)) });
    const queue = [want];
    while (queue.length) {
      const n = queue.shift()!;
      if ((enabled.has(n) && n !== want) || !Object.hasOwn(all, n)) continue;
      enabled.add(n);
      for (const d of Object.keys(all[n].depends_on)) if (!enabled.has(d)) queue.push(d);
    }
  }
  return { active, enabled };
}

/** `names` and everything they depend on, transitively. */
export function withDeps(names: string[], all: Record<string, Service>): Set<string> {
  const out = new Set<string>();
  const queue = [...names];
  while (queue.length) {
    const n = queue.shift()!;
    if (out.has(n) || !Object.hasOwn(all, n)) continue;
    out.add(n);
    queue.push(...Object.keys(all[n].depends_on));
  }
  return out;
}

/** An enabled service's dependency on a disabled one: an error when required, else dropped with a warning. */
export function dropDisabledDependencies(all: Record<string, Service>, enabled: Set<string>, warnings: string[]): void {
  for (const n of [...enabled].sort()) {
    const s = all[n];
    for (const [dep, cfg] of Object.entries(s.depends_on)) {
      if (enabled.has(dep) || !all[dep]) continue; // an undefined one: only with --no-consistency
      if (cfg.required) {
        throw new TscError(
          'SPEC_REFERENCE',
          `service ${JSON.stringify(n)} depends on ${JSON.stringify(dep)}, which is not enabled: it has profile${all[dep].profiles.length > 1 ? 's' : ''} ${all[dep].profiles.join(', ')}`,
          {
            hint: `enable it with --profile ${all[dep].profiles[0]} (or COMPOSE_PROFILES), or name ${dep} on the command line`,
          },
        );
      }
      warnings.push(`service ${JSON.stringify(n)}: optional dependency ${JSON.stringify(dep)} is disabled by its profiles and is ignored`);
      delete s.depends_on[dep];
    }
  }
}
