/**
 * The project record's schema, version 1. Objects are "loose": fields added by a later minor
 * change are kept on read and written back, so an older reader never drops them. A breaking
 * change bumps STATE_VERSION; a file with a newer version is refused (not guessed at).
 */
import { z } from 'zod';

export const STATE_VERSION = 1;

export const addressSchema = z.looseObject({
  /** "10.89.0.5" (no prefix length) */
  ipv4: z.string().optional(),
  ipv6: z.string().optional(),
  mac: z.string().optional(),
  /** DNS names this container answers to on that network (service name, aliases, container name) */
  aliases: z.array(z.string()).optional(),
});

export const containerRecordSchema = z.looseObject({
  /** engine container id, also its name (e.g. "demo-web-1") */
  id: z.string().min(1),
  name: z.string().min(1),
  /**
   * The container's id as users see it (Docker's form: 64 hex, random, new on every create;
   * `ps`, the default hostname). Internally containers are keyed by name (`id`). Records made
   * before it existed get one derived from name + created (containerPublicId in apply/inspect).
   */
  publicId: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
  service: z.string().min(1),
  /** replica number, from 1 */
  number: z.number().int().min(1),
  /** created by `run` rather than `up` */
  oneOff: z.boolean(),
  /** sha256 hex of the canonical service definition (see planner/hash) */
  configHash: z.string(),
  /** the hashed definition itself, so a later plan can name the fields that changed */
  definition: z.unknown(),
  /** the image reference as written in the service */
  image: z.string(),
  /** resolved image id ("sha256:...") */
  imageId: z.string(),
  /** ISO time of creation */
  created: z.string(),
  /**
   * 'creating': recorded before the engine made the container, so a crash in between leaves a
   * trace; a later run that finds no engine container for it treats it as dead (recreate).
   * 'created' (or absent): the engine container exists.
   */
  phase: z.enum(['creating', 'created']).optional(),
  /** persistent network namespace file, when the container has its own */
  netns: z.string().optional(),
  /** per network name */
  addresses: z.record(z.string(), addressSchema).optional(),
  /**
   * identity (`id`) of each project network and named volume at creation, by compose key: a
   * network or volume recreated since then makes the planner recreate the container
   */
  networks: z.record(z.string(), z.string()).optional(),
  volumes: z.record(z.string(), z.string()).optional(),
  /** the bundle directory owned by the engine */
  bundleDir: z.string().optional(),
  /** anonymous volumes made for this container (removed with it by rm -v / run --rm) */
  anonymousVolumes: z.array(z.string()).optional(),
});

export const networkRecordSchema = z.looseObject({
  /** project-scoped name, e.g. "demo_default" */
  name: z.string().min(1),
  /** changes whenever the network is (re)created (e.g. a random hex or the creation time) */
  id: z.string().optional(),
  /** host bridge interface name */
  bridge: z.string(),
  /** CIDR, e.g. "10.89.0.0/24" */
  subnet: z.string(),
  gateway: z.string(),
  subnet6: z.string().optional(),
  gateway6: z.string().optional(),
  external: z.boolean().optional(),
  internal: z.boolean().optional(),
  configHash: z.string().optional(),
  created: z.string(),
});

export const volumeRecordSchema = z.looseObject({
  /** full name, e.g. "demo_data" */
  name: z.string().min(1),
  /** changes whenever the volume is (re)created */
  id: z.string().optional(),
  /** host path of the data directory */
  path: z.string(),
  external: z.boolean().optional(),
  labels: z.record(z.string(), z.string()).optional(),
  configHash: z.string().optional(),
  created: z.string(),
});

export const supervisorRecordSchema = z.looseObject({
  pid: z.number().int().positive(),
  /** process start time (field 22 of /proc/PID/stat) so a recycled pid is not mistaken for it */
  startTime: z.number().int().nonnegative().optional(),
  socket: z.string(),
  started: z.string(),
});

export const projectStateSchema = z.looseObject({
  version: z.literal(STATE_VERSION),
  project: z.string().min(1),
  /** folder the compose files were resolved against, and the files, for `ls` */
  workingDir: z.string().optional(),
  configFiles: z.array(z.string()).optional(),
  created: z.string(),
  updated: z.string(),
  /** by container id */
  containers: z.record(z.string(), containerRecordSchema),
  /** by network key in the compose file (e.g. "default") */
  networks: z.record(z.string(), networkRecordSchema),
  /** by volume key in the compose file */
  volumes: z.record(z.string(), volumeRecordSchema),
  supervisor: supervisorRecordSchema.optional(),
});

export type AddressRecord = z.infer<typeof addressSchema>;
export type ContainerRecord = z.infer<typeof containerRecordSchema>;
export type NetworkRecord = z.infer<typeof networkRecordSchema>;
export type VolumeRecord = z.infer<typeof volumeRecordSchema>;
export type SupervisorRecord = z.infer<typeof supervisorRecordSchema>;
export type ProjectState = z.infer<typeof projectStateSchema>;
