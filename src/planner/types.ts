/**
 * The planner's own input types. The apply layer fills them from the compose model (desired)
 * and from the state record plus the supervisor's view of each container (observed); the
 * planner never reads files, the clock or the kernel.
 */

export type DependencyCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully';

export interface DependencySpec {
  condition: DependencyCondition;
  /** restart this service when the dependency is recreated (depends_on.restart) */
  restart: boolean;
  /** a missing or disabled dependency is an error (true) or ignored (false) */
  required: boolean;
}

export interface DesiredService {
  name: string;
  /** deploy.replicas / scale (1 when unset) */
  replicas: number;
  /** long-form depends_on */
  dependsOn: Record<string, DependencySpec>;
  /**
   * The normalized service definition in Compose's long form (JSON: snake_case keys as in the
   * Compose file). Its canonical hash decides recreation; the fields that must not force a
   * recreate (see hash.ts) are dropped before hashing and diffing.
   */
  definition: unknown;
  image: string;
  /** resolved image id ("sha256:..."), when known; compared with the container's */
  imageDigest?: string;
  /**
   * Identity of each project network and named volume the service uses, by its key in the
   * compose file (e.g. the network's id or creation hash). A container attached to another
   * identity (the network or volume was recreated since) is recreated, as Compose does.
   * Compared only when the container reports its own.
   */
  networks?: Record<string, string>;
  volumes?: Record<string, string>;
  /** container_name: a fixed name (allows one replica only) */
  containerName?: string;
  pullPolicy?: string;
  profiles?: string[];
}

export interface DesiredProject {
  project: string;
  /** enabled services (active profiles) */
  services: DesiredService[];
  /** services of the model that are disabled by profiles: their containers are not orphans */
  disabledServices?: string[];
}

export type ContainerState = 'created' | 'running' | 'restarting' | 'paused' | 'exited' | 'dead';

export interface ObservedContainer {
  /** engine id (also the container's name unless `name` is given) */
  id: string;
  name?: string;
  service: string;
  /** replica number, from 1 */
  number: number;
  /** made by `run` */
  oneOff: boolean;
  /** the hash recorded at creation */
  configHash: string;
  /** the hashed definition recorded at creation (undefined when unavailable) */
  definition?: unknown;
  /** image id the container was created from */
  imageDigest?: string;
  /** identities of the networks and named volumes the container was created with (see DesiredService) */
  networks?: Record<string, string>;
  volumes?: Record<string, string>;
  /**
   * The container's state as the engine/supervisor sees it. A recorded container whose engine
   * side is gone (e.g. after a crash during create) should be reported as 'dead': it is recreated.
   */
  state: ContainerState;
  exitCode?: number;
  health?: 'starting' | 'healthy' | 'unhealthy';
}

export interface PlanOptions {
  /** services named on the command line; empty/undefined = all enabled services */
  services?: string[];
  /** --scale svc=n (overrides replicas) */
  scale?: Record<string, number>;
  forceRecreate?: boolean;
  noRecreate?: boolean;
  /** do not add the dependencies of named services */
  noDeps?: boolean;
  removeOrphans?: boolean;
  /** create containers but do not start them */
  noStart?: boolean;
  /** recreate the dependencies of named services too (--always-recreate-deps) */
  alwaysRecreateDeps?: boolean;
}

export type ActionKind =
  /** create a new container (and start it unless `start` is false) */
  | 'create'
  /** stop and remove the container, create it again with the same name and number (and start it unless `start` is false) */
  | 'recreate'
  /** start an existing, stopped container */
  | 'start'
  /** resume a paused container */
  | 'unpause'
  /** stop a running container (it stays, e.g. to restart it after a dependency is recreated) */
  | 'stop'
  /** stop (if running) and remove a container */
  | 'remove'
  /** stop and remove a replica beyond the wanted scale */
  | 'scale-down'
  /** stop and remove a container whose service is no longer in the project */
  | 'remove-orphan'
  /** nothing to do: listed so the plan says why, and so dependents can wait on it */
  | 'noop';

export interface PlanAction {
  /** unique within the plan, stable across runs: `<kind>:<container name>` */
  id: string;
  kind: ActionKind;
  service: string;
  /** container name (for existing containers, the recorded one) */
  container: string;
  /** the existing container's id (undefined for create) */
  containerId?: string;
  number?: number;
  /** one human sentence: why */
  reason: string;
  /** definition paths that differ from the recorded ones (recreate) */
  changedFields?: string[];
  /** create/recreate: start the container after creating it */
  start?: boolean;
  /** create/recreate: the config hash to record for the new container */
  configHash?: string;
  /** ids of actions that must finish first */
  after: string[];
}
