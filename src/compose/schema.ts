/**
 * The normalized model every part after loading reads (long syntax only, defaults filled,
 * absolute paths). The input schema (what a file may contain) is schema-input.ts, re-exported here.
 *
 * Units inside the model: every duration is a number of MILLISECONDS, every size a number of
 * BYTES, cpus a (fractional) number of CPUs.
 */
import { z } from 'zod';

export { ComposeFileSchema, type ComposeFileInput } from './schema-input.js';

const ext_ = z.record(z.string(), z.unknown());

const PortSchema = z.object({
  /** container port */
  target: z.number().int().min(0).max(65535),
  /** host port or range ("8080", "8000-8010"); absent = a random host port when published */
  published: z.string().optional(),
  host_ip: z.string().optional(),
  protocol: z.enum(['tcp', 'udp', 'sctp']),
  mode: z.enum(['ingress', 'host']),
  name: z.string().optional(),
  app_protocol: z.string().optional(),
});
export type Port = z.infer<typeof PortSchema>;

const VolumeMountSchema = z.object({
  type: z.enum(['bind', 'volume', 'tmpfs', 'cluster', 'npipe', 'image']),
  /** bind: absolute host path; volume: the top-level volume key (absent = anonymous volume); image: image ref */
  source: z.string().optional(),
  /** absolute path in the container */
  target: z.string(),
  read_only: z.boolean(),
  consistency: z.string().optional(),
  bind: z
    .object({
      create_host_path: z.boolean(),
      propagation: z.string().optional(),
      recursive: z.string().optional(),
      selinux: z.string().optional(),
    })
    .optional(),
  volume: z.object({ nocopy: z.boolean(), subpath: z.string().optional() }).optional(),
  /** size in BYTES, mode as a number (e.g. 0o1777) */
  tmpfs: z.object({ size: z.number().int().optional(), mode: z.number().int().optional() }).optional(),
  image: z.object({ subpath: z.string().optional() }).optional(),
});
export type VolumeMount = z.infer<typeof VolumeMountSchema>;

const DependsOnSchema = z.object({
  condition: z.enum(['service_started', 'service_healthy', 'service_completed_successfully']),
  restart: z.boolean(),
  required: z.boolean(),
});
export type DependsOn = z.infer<typeof DependsOnSchema>;

const ServiceNetworkSchema = z
  .object({
    aliases: z.array(z.string()).optional(),
    ipv4_address: z.string().optional(),
    ipv6_address: z.string().optional(),
    interface_name: z.string().optional(),
    link_local_ips: z.array(z.string()).optional(),
    mac_address: z.string().optional(),
    driver_opts: z.record(z.string(), z.string()).optional(),
    priority: z.number().optional(),
    gw_priority: z.number().optional(),
  })
  .nullable();
export type ServiceNetwork = z.infer<typeof ServiceNetworkSchema>;

const HealthcheckSchema = z.object({
  /** ["CMD", ...], ["CMD-SHELL", "cmd"] or ["NONE"]; absent = the image's healthcheck */
  test: z.array(z.string()).optional(),
  /** MILLISECONDS */
  interval: z.number().optional(),
  /** MILLISECONDS */
  timeout: z.number().optional(),
  retries: z.number().int().optional(),
  /** MILLISECONDS */
  start_period: z.number().optional(),
  /** MILLISECONDS */
  start_interval: z.number().optional(),
  disable: z.boolean(),
});
export type Healthcheck = z.infer<typeof HealthcheckSchema>;

const ResourceLimitsSchema = z.object({
  /** number of CPUs (1.5 = one and a half) */
  cpus: z.number().optional(),
  /** BYTES */
  memory: z.number().int().optional(),
  pids: z.number().int().optional(),
});

const DeploySchema = z
  .object({
    replicas: z.number().int().min(0).optional(),
    resources: z.object({ limits: ResourceLimitsSchema.optional(), reservations: ResourceLimitsSchema.optional() }).optional(),
  })
  .catchall(z.unknown());

const BuildSchema = z
  .object({
    /** absolute path (or a URL, kept as written) */
    context: z.string(),
    /** relative to the context (as written), or absolute; "Dockerfile" unless dockerfile_inline is set */
    dockerfile: z.string().optional(),
    dockerfile_inline: z.string().optional(),
    /** null = declared without a value and unset in the environment */
    args: z.record(z.string(), z.string().nullable()).optional(),
    target: z.string().optional(),
    labels: z.record(z.string(), z.string().nullable()).optional(),
    /** name -> absolute directory, or a non-local context (`service:NAME`, `docker-image://...`) as written */
    additional_contexts: z.record(z.string(), z.string()).optional(),
    network: z.string().optional(),
    no_cache: z.boolean().optional(),
    pull: z.boolean().optional(),
    tags: z.array(z.string()).optional(),
    platforms: z.array(z.string()).optional(),
    /** BYTES */
    shm_size: z.number().int().optional(),
  })
  .catchall(z.unknown());

const EnvFileSchema = z.object({ path: z.string(), required: z.boolean(), format: z.string().optional() });

const UlimitSchema = z.object({ soft: z.number().int(), hard: z.number().int() });

export const ServiceSchema = z.object({
  name: z.string(),
  image: z.string().optional(),
  build: BuildSchema.optional(),
  /** null = the image's default; [] (from "" or []) clears it; a string form is split like a shell */
  command: z.array(z.string()).nullable(),
  entrypoint: z.array(z.string()).nullable(),
  /** final environment: env_file contents overlaid by `environment`; null = declared without a value and unset */
  environment: z.record(z.string(), z.string().nullable()),
  env_file: z.array(EnvFileSchema).optional(),
  ports: z.array(PortSchema),
  expose: z.array(z.string()),
  volumes: z.array(VolumeMountSchema),
  /** tmpfs mount points ("/run" or "/run:size=64m,mode=1777"), as Compose keeps them */
  tmpfs: z.array(z.string()),
  networks: z.record(z.string(), ServiceNetworkSchema),
  network_mode: z.string().optional(),
  depends_on: z.record(z.string(), DependsOnSchema),
  healthcheck: HealthcheckSchema.optional(),
  restart: z.string().optional(),
  deploy: DeploySchema.optional(),
  /** BYTES */
  mem_limit: z.number().int().optional(),
  /** BYTES */
  mem_reservation: z.number().int().optional(),
  /** BYTES, -1 = unlimited */
  memswap_limit: z.number().int().optional(),
  cpus: z.number().optional(),
  cpu_shares: z.number().int().optional(),
  cpu_quota: z.number().int().optional(),
  cpu_period: z.number().int().optional(),
  cpuset: z.string().optional(),
  pids_limit: z.number().int().optional(),
  user: z.string().optional(),
  working_dir: z.string().optional(),
  hostname: z.string().optional(),
  domainname: z.string().optional(),
  labels: z.record(z.string(), z.string()),
  init: z.boolean().optional(),
  stop_signal: z.string().optional(),
  /** MILLISECONDS */
  stop_grace_period: z.number().optional(),
  read_only: z.boolean().optional(),
  cap_add: z.array(z.string()),
  cap_drop: z.array(z.string()),
  privileged: z.boolean().optional(),
  /** host name → addresses */
  extra_hosts: z.record(z.string(), z.array(z.string())),
  dns: z.array(z.string()),
  dns_search: z.array(z.string()),
  dns_opt: z.array(z.string()),
  sysctls: z.record(z.string(), z.string()),
  ulimits: z.record(z.string(), UlimitSchema),
  group_add: z.array(z.string()),
  tty: z.boolean().optional(),
  stdin_open: z.boolean().optional(),
  container_name: z.string().optional(),
  profiles: z.array(z.string()),
  pull_policy: z.string().optional(),
  /** `links: [db, "db:alias"]`: the service linked to and the name it is known by (the service's own name without an alias) */
  links: z.array(z.object({ service: z.string(), alias: z.string() })).optional(),
  /**
   * A service managed by an external provider (Compose's `provider:`): kept in the model, but
   * tscompose cannot run it (`up`/`run` refuse it).
   */
  provider: z
    .object({ type: z.string(), options: z.record(z.string(), z.unknown()).optional() })
    .catchall(z.unknown())
    .optional(),
  /** x-* keys of the service */
  extensions: ext_,
  /** valid Compose keys tscompose keeps but does not act on (see Project.warnings) */
  unsupported: ext_,
});
export type Service = z.infer<typeof ServiceSchema>;

const NetworkSchema = z.object({
  /** the kernel-level/network name: `<project>_<key>` unless `name:` or external */
  name: z.string(),
  driver: z.string().optional(),
  driver_opts: z.record(z.string(), z.string()).optional(),
  ipam: z
    .object({
      driver: z.string().optional(),
      config: z.array(
        z.object({
          subnet: z.string().optional(),
          ip_range: z.string().optional(),
          gateway: z.string().optional(),
          aux_addresses: z.record(z.string(), z.string()).optional(),
        }),
      ),
      options: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
  external: z.boolean(),
  internal: z.boolean(),
  enable_ipv6: z.boolean().optional(),
  attachable: z.boolean().optional(),
  labels: z.record(z.string(), z.string()),
  extensions: ext_,
});
export type Network = z.infer<typeof NetworkSchema>;

const VolumeSchema = z.object({
  /** `<project>_<key>` unless `name:` or external */
  name: z.string(),
  driver: z.string().optional(),
  driver_opts: z.record(z.string(), z.string()).optional(),
  external: z.boolean(),
  labels: z.record(z.string(), z.string()),
  extensions: ext_,
});
export type Volume = z.infer<typeof VolumeSchema>;

const EnvironmentEntrySchema = z.object({
  name: z.string(),
  value: z.string().nullable(),
  source: z.enum(['shell', 'env-file', 'dotenv', 'default', 'unset']),
  usedIn: z.array(z.string()),
});

export const ProjectSchema = z.object({
  name: z.string(),
  workingDir: z.string(),
  composeFiles: z.array(z.string()),
  /** enabled services (profiles applied), by name */
  services: z.record(z.string(), ServiceSchema),
  /** services left out by profiles, normalized all the same */
  disabledServices: z.record(z.string(), ServiceSchema),
  networks: z.record(z.string(), NetworkSchema),
  volumes: z.record(z.string(), VolumeSchema),
  /** top-level secrets/configs/models, kept as written */
  secrets: ext_,
  configs: ext_,
  /** every variable interpolation used, with its value and source */
  environment: z.array(EnvironmentEntrySchema),
  /** active profiles */
  profiles: z.array(z.string()),
  /** every profile named by any service */
  allProfiles: z.array(z.string()),
  extensions: ext_,
  warnings: z.array(z.string()),
});
export type Project = z.infer<typeof ProjectSchema>;
