/**
 * A model `Project` rebuilt from what was kept of one, not from files: for the verbs that act on
 * a project by name alone, as Compose rebuilds a project from its containers' labels when no
 * compose file is found (`docker compose -p NAME down` in any directory).
 */
import { ServiceSchema, type DependsOn, type Project, type Service } from './schema.js';

/** What a normalized service has when nothing is known of it but its name. */
const EMPTY_SERVICE = {
  command: null,
  entrypoint: null,
  environment: {},
  ports: [],
  expose: [],
  volumes: [],
  tmpfs: [],
  networks: {},
  labels: {},
  cap_add: [],
  cap_drop: [],
  extra_hosts: {},
  dns: [],
  dns_search: [],
  dns_opt: [],
  sysctls: {},
  ulimits: {},
  group_add: [],
  unsupported: {},
};

/**
 * A service from a kept definition (a normalized `Service` without the fields its config hash
 * leaves out, see planner/hash.ts) and its dependencies. The fields of the definition that fit
 * the model are kept, whatever a record of an older version lacks is left empty.
 */
export function restoreService(name: string, definition: unknown, dependsOn: Record<string, DependsOn>): Service {
  const known = ServiceSchema.partial().safeParse(definition);
  return ServiceSchema.parse({
    ...EMPTY_SERVICE,
    ...(known.success ? known.data : {}),
    name,
    depends_on: dependsOn,
    profiles: [],
    extensions: {},
  });
}

/** Kept networks and volumes: the name they have and whether the project owns them. */
export interface KeptResource {
  name: string;
  external?: boolean;
  internal?: boolean;
}

/** A project of the given services, networks and volumes, with no files, profiles or warnings. */
export function restoreProject(p: {
  name: string;
  workingDir?: string;
  composeFiles?: string[];
  services: Service[];
  networks: Record<string, KeptResource>;
  volumes: Record<string, KeptResource>;
}): Project {
  const networks: Project['networks'] = {};
  for (const [key, n] of Object.entries(p.networks)) {
    networks[key] = { name: n.name, external: n.external ?? false, internal: n.internal ?? false, labels: {}, extensions: {} };
  }
  const volumes: Project['volumes'] = {};
  for (const [key, v] of Object.entries(p.volumes)) volumes[key] = { name: v.name, external: v.external ?? false, labels: {}, extensions: {} };
  return {
    name: p.name,
    workingDir: p.workingDir ?? '',
    composeFiles: p.composeFiles ?? [],
    services: Object.fromEntries(p.services.map((s) => [s.name, s])),
    disabledServices: {},
    networks,
    volumes,
    secrets: {},
    configs: {},
    environment: [],
    profiles: [],
    allProfiles: [],
    extensions: {},
    warnings: [],
  };
}
