/**
 * The input schema: the single source of truth for what a compose file may contain (short and
 * long syntax, one file at a time, after interpolation). Validation (validate.ts), the editor
 * JSON Schema (jsonschema.ts) and the conformance test against the official schema all read it.
 */
import { z } from 'zod';

/** Schemas whose unknown keys are errors (x-* extension keys excepted). */
const strictObjects = new WeakSet<z.ZodType>();

/** An object that rejects unknown keys except `x-*` extensions, as the Compose schema does. */
function ext<S extends z.ZodRawShape>(shape: S) {
  const schema = z.looseObject(shape).superRefine((v, ctx) => {
    const bad = Object.keys(v).filter((k) => !Object.hasOwn(shape, k) && !k.startsWith('x-'));
    if (bad.length > 0) ctx.addIssue({ code: 'unrecognized_keys', keys: bad, input: v });
  });
  strictObjects.add(schema);
  return schema;
}

const NAME_RE = /^[a-zA-Z0-9._-]+$/;
const name = z.string().regex(NAME_RE, 'names may only contain letters, digits, ".", "_" and "-"');
const boolish = z.union([z.boolean(), z.string()]);
const numStr = z.union([z.number(), z.string()]);
const intStr = z.union([z.number().int(), z.string()]);
/** An array whose items must all differ (JSON Schema `uniqueItems`), as the Compose schema requires for most lists. */
function uniq<T extends z.ZodType>(item: T) {
  return z
    .array(item)
    .superRefine((items, ctx) => {
      const seen = new Map<string, number>();
      items.forEach((it, i) => {
        const key = JSON.stringify(it);
        const first = seen.get(key);
        if (first !== undefined) ctx.addIssue({ code: 'custom', path: [i], message: `duplicate entry ${key} (same as item [${first}])`, input: it });
        else seen.set(key, i);
      });
    })
    .meta({ uniqueItems: true });
}

const strList = z.array(z.string());
const uniqStrList = uniq(z.string());
const stringOrList = z.union([z.string(), uniqStrList]);
const listOrDict = z.union([
  z.record(z.string().min(1, 'an empty name is not allowed'), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  uniqStrList,
]);
const command = z.union([z.null(), z.string(), strList]);
const any = z.unknown();

const portLong = ext({
  name: z.string().optional(),
  mode: z.string().optional(),
  host_ip: z.string().optional(),
  target: intStr.optional(),
  published: z.union([z.string(), z.number().int()]).optional(),
  protocol: z.string().optional(),
  app_protocol: z.string().optional(),
});

const volumeLong = ext({
  type: z.enum(['bind', 'volume', 'tmpfs', 'cluster', 'npipe', 'image']),
  source: z.string().optional(),
  target: z.string().optional(),
  read_only: boolish.optional(),
  consistency: z.string().optional(),
  bind: ext({
    propagation: z.string().optional(),
    create_host_path: boolish.optional(),
    recursive: z.enum(['enabled', 'disabled', 'writable', 'readonly']).optional(),
    selinux: z.enum(['z', 'Z']).optional(),
  }).optional(),
  volume: ext({ nocopy: boolish.optional(), subpath: z.string().optional() }).optional(),
  tmpfs: ext({ size: z.union([z.number().int().min(0), z.string()]).optional(), mode: numStr.optional() }).optional(),
  image: ext({ subpath: z.string().optional() }).optional(),
});

const healthcheck = ext({
  disable: boolish.optional(),
  interval: z.string().optional(),
  retries: numStr.optional(),
  test: z.union([z.string(), strList]).optional(),
  timeout: z.string().optional(),
  start_period: z.string().optional(),
  start_interval: z.string().optional(),
});

const resourcesBlock = ext({
  cpus: numStr.optional(),
  memory: z.string().optional(),
  pids: intStr.optional(),
  generic_resources: any.optional(),
  devices: any.optional(),
});

const deploy = ext({
  mode: z.string().optional(),
  endpoint_mode: z.string().optional(),
  replicas: intStr.optional(),
  labels: listOrDict.optional(),
  rollback_config: any.optional(),
  update_config: any.optional(),
  resources: ext({ limits: resourcesBlock.optional(), reservations: resourcesBlock.optional() }).optional(),
  restart_policy: any.optional(),
  placement: any.optional(),
});

const build = z.union([
  z.string(),
  ext({
    context: z.string().optional(),
    dockerfile: z.string().optional(),
    dockerfile_inline: z.string().optional(),
    entitlements: any.optional(),
    args: listOrDict.optional(),
    ssh: any.optional(),
    labels: listOrDict.optional(),
    cache_from: any.optional(),
    cache_to: any.optional(),
    no_cache: boolish.optional(),
    additional_contexts: any.optional(),
    network: z.string().optional(),
    provenance: any.optional(),
    sbom: any.optional(),
    pull: boolish.optional(),
    target: z.string().optional(),
    shm_size: numStr.optional(),
    extra_hosts: any.optional(),
    isolation: z.string().optional(),
    privileged: boolish.optional(),
    secrets: any.optional(),
    tags: any.optional(),
    ulimits: any.optional(),
    platforms: any.optional(),
  }),
]);

const serviceNetwork = z.union([
  z.null(),
  ext({
    aliases: uniqStrList.optional(),
    interface_name: z.string().optional(),
    ipv4_address: z.string().optional(),
    ipv6_address: z.string().optional(),
    link_local_ips: uniqStrList.optional(),
    mac_address: z.string().optional(),
    driver_opts: z.record(z.string(), numStr).optional(),
    priority: z.number().optional(),
    gw_priority: z.number().optional(),
  }),
]);

const configOrSecret = z.array(
  z.union([
    z.string(),
    ext({ source: z.string().optional(), target: z.string().optional(), uid: z.string().optional(), gid: z.string().optional(), mode: numStr.optional() }),
  ]),
);

const dependsOnLong = ext({
  restart: boolish.optional(),
  required: z.boolean().optional(),
  condition: z.enum(['service_started', 'service_healthy', 'service_completed_successfully']).optional(),
});

/** Every service key of the Compose Specification. Keys typed `any` are kept as written. */
const serviceShape = {
  develop: any.optional(),
  deploy: deploy.optional(),
  annotations: listOrDict.optional(),
  attach: boolish.optional(),
  build: build.optional(),
  blkio_config: any.optional(),
  cap_add: uniqStrList.optional(),
  cap_drop: uniqStrList.optional(),
  cgroup: z.enum(['host', 'private']).optional(),
  cgroup_parent: z.string().optional(),
  command: command.optional(),
  configs: configOrSecret.optional(),
  container_name: z
    .string()
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/, 'a container name is [a-zA-Z0-9][a-zA-Z0-9_.-]+')
    .optional(),
  cpu_count: z.union([z.string(), z.number().int().min(0)]).optional(),
  cpu_percent: z.union([z.string(), z.number().int().min(0).max(100)]).optional(),
  cpu_shares: numStr.optional(),
  cpu_quota: numStr.optional(),
  cpu_period: numStr.optional(),
  cpu_rt_period: numStr.optional(),
  cpu_rt_runtime: numStr.optional(),
  cpus: numStr.optional(),
  cpuset: z.string().optional(),
  credential_spec: any.optional(),
  depends_on: z.union([uniqStrList, z.record(name, dependsOnLong)]).optional(),
  device_cgroup_rules: uniqStrList.optional(),
  devices: z.array(z.union([z.string(), ext({ source: z.string(), target: z.string().optional(), permissions: z.string().optional() })])).optional(),
  dns: stringOrList.optional(),
  dns_opt: uniqStrList.optional(),
  dns_search: stringOrList.optional(),
  domainname: z.string().optional(),
  entrypoint: command.optional(),
  env_file: z
    .union([z.string(), z.array(z.union([z.string(), ext({ path: z.string(), format: z.string().optional(), required: boolish.optional() })]))])
    .optional(),
  label_file: stringOrList.optional(),
  environment: listOrDict.optional(),
  expose: uniq(numStr).optional(),
  extends: z.union([z.string(), ext({ service: z.string(), file: z.string().optional() })]).optional(),
  provider: ext({
    type: z.string(),
    options: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.array(z.union([z.string(), z.number(), z.boolean()]))])).optional(),
  }).optional(),
  external_links: uniqStrList.optional(),
  extra_hosts: z.union([z.record(z.string(), z.union([z.string(), strList])), uniqStrList]).optional(),
  gpus: any.optional(),
  group_add: uniq(numStr).optional(),
  healthcheck: healthcheck.optional(),
  hostname: z.string().optional(),
  image: z.string().optional(),
  init: boolish.optional(),
  ipc: z.string().optional(),
  isolation: z.string().optional(),
  labels: listOrDict.optional(),
  links: uniqStrList.optional(),
  logging: ext({ driver: z.string().optional(), options: z.record(z.string(), z.union([z.string(), z.number(), z.null()])).optional() }).optional(),
  mac_address: z.string().optional(),
  mem_limit: numStr.optional(),
  mem_reservation: intStr.optional(),
  mem_swappiness: intStr.optional(),
  memswap_limit: numStr.optional(),
  network_mode: z.string().optional(),
  models: any.optional(),
  networks: z.union([uniqStrList, z.record(name, serviceNetwork)]).optional(),
  oom_kill_disable: boolish.optional(),
  oom_score_adj: z.union([z.number().int().min(-1000).max(1000), z.string()]).optional(),
  pid: z.union([z.string(), z.null()]).optional(),
  pids_limit: numStr.optional(),
  platform: z.string().optional(),
  ports: uniq(z.union([z.number(), z.string(), portLong])).optional(),
  post_start: any.optional(),
  pre_stop: any.optional(),
  privileged: boolish.optional(),
  profiles: uniqStrList.optional(),
  pull_policy: z
    .string()
    .regex(
      /^(always|never|build|if_not_present|missing|refresh|daily|weekly|every_([0-9]+[wdhms])+)$/,
      'a pull policy is always, never, missing, build, daily, weekly or every_<duration>',
    )
    .optional(),
  pull_refresh_after: z.string().optional(),
  read_only: boolish.optional(),
  restart: z.string().optional(),
  runtime: z.string().optional(),
  scale: intStr.optional(),
  security_opt: uniqStrList.optional(),
  shm_size: numStr.optional(),
  secrets: configOrSecret.optional(),
  sysctls: listOrDict.optional(),
  stdin_open: boolish.optional(),
  stop_grace_period: z.string().optional(),
  stop_signal: z.string().optional(),
  storage_opt: z.record(z.string(), z.unknown()).optional(),
  tmpfs: stringOrList.optional(),
  tty: boolish.optional(),
  ulimits: z.record(z.string().regex(/^[a-z]+$/, 'ulimit names are lower-case letters'), z.union([intStr, ext({ hard: intStr, soft: intStr })])).optional(),
  use_api_socket: z.boolean().optional(),
  user: z.string().optional(),
  uts: z.string().optional(),
  userns_mode: z.string().optional(),
  volumes: uniq(z.union([z.string(), volumeLong])).optional(),
  volumes_from: uniqStrList.optional(),
  working_dir: z.string().optional(),
};

const ServiceInputSchema = ext(serviceShape);

const externalFlag = z.union([z.boolean(), z.string(), ext({ name: z.string().optional() })]);

const NetworkInputSchema = z.union([
  z.null(),
  ext({
    name: z.string().optional(),
    driver: z.string().optional(),
    driver_opts: z.record(z.string(), numStr).optional(),
    ipam: ext({
      driver: z.string().optional(),
      config: z
        .array(
          ext({
            subnet: z.string().optional(),
            ip_range: z.string().optional(),
            gateway: z.string().optional(),
            aux_addresses: z.record(z.string(), z.string()).optional(),
          }),
        )
        .optional(),
      options: z.record(z.string(), z.string()).optional(),
    }).optional(),
    external: externalFlag.optional(),
    internal: boolish.optional(),
    enable_ipv4: boolish.optional(),
    enable_ipv6: boolish.optional(),
    attachable: boolish.optional(),
    labels: listOrDict.optional(),
  }),
]);

const VolumeInputSchema = z.union([
  z.null(),
  ext({
    name: z.string().optional(),
    driver: z.string().optional(),
    driver_opts: z.record(z.string(), numStr).optional(),
    external: externalFlag.optional(),
    labels: listOrDict.optional(),
  }),
]);

const includeEntry = z.union([z.string(), ext({ path: stringOrList, env_file: stringOrList.optional(), project_directory: z.string().optional() })]);

/** One compose file as written (after interpolation). */
export const ComposeFileSchema = ext({
  version: z.string().optional(),
  name: z.string().optional(),
  include: z.array(includeEntry).optional(),
  services: z.record(name, ServiceInputSchema).optional(),
  models: z.record(name, any).optional(),
  networks: z.record(name, NetworkInputSchema).optional(),
  volumes: z.record(name, VolumeInputSchema).optional(),
  secrets: z.record(name, any).optional(),
  configs: z.record(name, any).optional(),
}).meta({
  title: 'Compose file (tscompose)',
  description: 'A Compose Specification file as tscompose accepts it. Generated from the zod schema in src/compose/schema.ts.',
});

export type ComposeFileInput = z.input<typeof ComposeFileSchema>;
