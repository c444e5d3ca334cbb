/**
 * Stage "defaults": each merged service becomes a model `Service`: defaults filled (empty lists
 * and mappings, `build.dockerfile`, `healthcheck.disable`, `deploy.replicas` from `scale`),
 * `environment` values without `=` taken from the environment, the per-service consistency
 * checks (image or build, platform, scale, network_mode with networks), and keys tscompose does
 * not act on moved to `unsupported` with a warning.
 */
import { specError } from './canonical-values.js';
import { parseLink } from './implied.js';
import type { LoadContext, LoadedModel, Obj, Path, ServiceFragment } from './load-context.js';
import { unwrap } from './merge.js';
import type { Service } from './schema.js';
import { securityOptions } from './security-opt.js';
import { finalizeBuild } from './service-build.js';

/** Service keys tscompose acts on; any other Compose key is kept and reported as unsupported. */
const SUPPORTED_KEYS = new Set([
  'image',
  'build',
  'command',
  'entrypoint',
  'environment',
  'env_file',
  'ports',
  'expose',
  'volumes',
  'tmpfs',
  'networks',
  'network_mode',
  'depends_on',
  'healthcheck',
  'restart',
  'deploy',
  'mem_limit',
  'mem_reservation',
  'memswap_limit',
  'cpus',
  'cpu_shares',
  'cpu_quota',
  'cpu_period',
  'cpuset',
  'pids_limit',
  'user',
  'working_dir',
  'hostname',
  'domainname',
  'labels',
  'init',
  'stop_signal',
  'stop_grace_period',
  'read_only',
  'cap_add',
  'cap_drop',
  'privileged',
  'extra_hosts',
  'dns',
  'dns_search',
  'dns_opt',
  'sysctls',
  'ulimits',
  'group_add',
  'tty',
  'stdin_open',
  'container_name',
  'profiles',
  'pull_policy',
  'scale',
  'links',
  'provider',
]);
const SUPPORTED_DEPLOY = new Set(['replicas', 'resources']);

function stringMap(d: Record<string, string | null>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(d)) out[k] = v ?? '';
  return out;
}

function finalizeService(name: string, frag: ServiceFragment, ld: LoadContext): Service {
  const s = unwrap(frag.data) as Obj;
  const ctx = { file: frag.file, positions: frag.positions };
  const at = (...p: Path): Path => ['services', name, ...p];
  // `image: ""` is no image (compose-go compares with the empty string)
  if (s.image === '') delete s.image;
  if (ld.strict && s.image === undefined && s.build === undefined && s.provider === undefined) {
    throw specError(
      ctx,
      at(),
      `service ${JSON.stringify(name)} has neither an image nor a build context specified`,
      'add image: (for example image: busybox:latest)',
    );
  }
  const platforms = (s.build as Obj | undefined)?.platforms;
  if (ld.strict && typeof s.platform === 'string' && s.platform !== '' && Array.isArray(platforms) && platforms.length > 0 && !platforms.includes(s.platform)) {
    throw specError(
      ctx,
      at('platform'),
      `platform ${JSON.stringify(s.platform)} of service ${JSON.stringify(name)} is not among its build.platforms (${platforms.map(String).join(', ')}): Compose requires build.platforms to include service.platform`,
      'add it to build.platforms or change platform',
    );
  }
  // environment as declared; env_file contents go under it once the selection is known (applyEnvFiles)
  const env: Record<string, string | null> = {};
  for (const [k, v] of Object.entries((s.environment as Record<string, string | null> | undefined) ?? {})) {
    env[k] = v === null ? (ld.lookupValue(k) ?? null) : v;
  }
  const deploy = s.deploy as Obj | undefined;
  if (s.scale !== undefined) {
    const rep = deploy?.replicas;
    if (ld.strict && rep !== undefined && rep !== s.scale)
      throw specError(ctx, at('scale'), `scale (${String(s.scale)}) and deploy.replicas (${String(rep)}) disagree`);
  }
  const svc: Obj = {
    name,
    command: s.command === undefined ? null : s.command,
    entrypoint: s.entrypoint === undefined ? null : s.entrypoint,
    environment: env,
    ports: s.ports ?? [],
    expose: s.expose ?? [],
    volumes: s.volumes ?? [],
    tmpfs: s.tmpfs ?? [],
    networks: s.networks ?? {},
    depends_on: { ...((s.depends_on as Obj | undefined) ?? {}) },
    labels: stringMap((s.labels as Record<string, string | null>) ?? {}),
    cap_add: s.cap_add ?? [],
    cap_drop: s.cap_drop ?? [],
    extra_hosts: s.extra_hosts ?? {},
    dns: s.dns ?? [],
    dns_search: s.dns_search ?? [],
    dns_opt: s.dns_opt ?? [],
    sysctls: stringMap((s.sysctls as Record<string, string | null>) ?? {}),
    ulimits: s.ulimits ?? {},
    group_add: s.group_add ?? [],
    profiles: s.profiles ?? [],
    extensions: {},
    unsupported: {},
  };
  for (const k of [
    'image',
    'network_mode',
    'restart',
    'mem_limit',
    'mem_reservation',
    'memswap_limit',
    'cpus',
    'cpu_shares',
    'cpu_quota',
    'cpu_period',
    'cpuset',
    'pids_limit',
    'user',
    'working_dir',
    'hostname',
    'domainname',
    'init',
    'stop_signal',
    'stop_grace_period',
    'read_only',
    'privileged',
    'tty',
    'stdin_open',
    'container_name',
    'pull_policy',
  ]) {
    if (s[k] !== undefined) svc[k] = s[k];
  }
  if (s.env_file !== undefined) svc.env_file = s.env_file;
  if (Array.isArray(s.links)) svc.links = s.links.map((l) => parseLink(String(l)));
  if (s.provider !== undefined) svc.provider = s.provider;
  if (s.build !== undefined) svc.build = finalizeBuild(name, s.build as Obj, ctx, ld);
  if (s.healthcheck !== undefined) {
    const h = { ...(s.healthcheck as Obj) };
    const test = h.test as string[] | undefined;
    h.disable = h.disable === true || (test !== undefined && test[0] === 'NONE');
    svc.healthcheck = h;
  }
  if (deploy !== undefined || s.scale !== undefined) {
    const d: Obj = { ...(deploy ?? {}) };
    if (s.scale !== undefined && d.replicas === undefined) d.replicas = s.scale;
    for (const k of Object.keys(d))
      if (!SUPPORTED_DEPLOY.has(k))
        ld.warnings.push(`services.${name}.deploy.${k} is not supported by tscompose yet: it is kept in the model but has no effect`);
    const res = d.resources as Obj | undefined;
    if (res?.reservations !== undefined)
      ld.warnings.push(`services.${name}.deploy.resources.reservations is not supported by tscompose yet: it is kept in the model but has no effect`);
    svc.deploy = d;
  }
  if (ld.strict && s.network_mode !== undefined && s.networks !== undefined) {
    throw specError(
      ctx,
      at('network_mode'),
      `service ${JSON.stringify(name)} sets both network_mode and networks`,
      "use one of them: network_mode replaces the service's networks",
    );
  }
  for (const [k, v] of Object.entries(s)) {
    if (k.startsWith('x-')) (svc.extensions as Obj)[k] = v;
    else if (!SUPPORTED_KEYS.has(k)) {
      (svc.unsupported as Obj)[k] = v;
      if (k === 'security_opt') {
        // no-new-privileges and seccomp=unconfined|<profile file> are applied (read from unsupported.security_opt); other options are not.
        const { ignored } = securityOptions(v);
        if (ignored.length > 0)
          ld.warnings.push(
            `services.${name}.security_opt: ${ignored.map((o) => JSON.stringify(o)).join(', ')} ${ignored.length > 1 ? 'are' : 'is'} not supported by tscompose yet and ignored (only no-new-privileges and seccomp= are)`,
          );
        continue;
      }
      // kept in `unsupported` for the model's shape, but applied by the runtime
      if (k === 'logging' || k === 'shm_size') continue;
      ld.warnings.push(`services.${name}.${k} is not supported by tscompose yet: it is kept in the model but has no effect`);
    }
  }
  return svc as unknown as Service;
}

/** Every service of the model, finalized, in the model's order. */
export function finalizeServices(model: LoadedModel, ld: LoadContext): Record<string, Service> {
  const all: Record<string, Service> = {};
  for (const [n, frag] of Object.entries(model.services)) all[n] = finalizeService(n, frag, ld);
  return all;
}
