/**
 * A project's runtime: the glue between the compose model and the parts that act (image
 * store, network, supervisor, engine) with the project record in between. Each operation of a
 * plan records what it makes BEFORE making it, so a crash at any moment leaves a record that
 * the next `up` or `down` can repair from.
 *
 * ProjectRuntime is a thin facade over the modules that do the work, one job each:
 *   containers.ts (create, start, stop), removal.ts (remove, batched), networks.ts,
 *   volumes.ts, observe.ts (statuses, the planner's view), records.ts (the record's writes,
 *   run.json, forgetting a project),
 *   supervisor-access.ts (one client, started once), service-image.ts.
 * They take the RuntimeContext (context.ts) it implements, never this class.
 */
import type { Project, Service } from '../compose/index.js';
import { openImageStore, type ImageRecord, type ImageStore } from '../images/index.js';
import type { NetworkInfo } from '../network/index.js';
import type { ObservedContainer } from '../planner/index.js';
import { emptyProjectState, readProjectState, type ContainerRecord, type NetworkRecord, type ProjectState } from '../state/index.js';
import type { SupervisorClient } from '../supervisor/index.js';
import type { ContainerStatus, RunConfig } from '../supervisor/types.js';
import { containerName, createContainer, definitionOf, startRecorded, stopContainer, type CreateOptions } from './containers.js';
import type { RuntimeContext } from './context.js';
import { checkNetworks, ensureProjectNetwork, networkInfo, reassertFirewall, removeProjectNetworks, serviceNetworkKeys } from './networks.js';
import { containerStatuses, observeContainers } from './observe.js';
import { bundleDirOf, forgetProject, readRunConfig, RecordSaver } from './records.js';
import { ContainerRemover, pruneGoneOneOffs, type RemoveOptions } from './removal.js';
import { localImage, requireImage, serviceImageRef } from './service-image.js';
import { hasProcesses, SupervisorAccess } from './supervisor-access.js';
import { ensureProjectVolume, removeNamedVolumes } from './volumes.js';

export type { CreateOptions } from './containers.js';
export type { ContainerNetworkData } from './networks.js';
export { portMappings } from './networks.js';

export class ProjectRuntime implements RuntimeContext {
  readonly images: ImageStore;
  private readonly access: SupervisorAccess;
  private readonly saver: RecordSaver;
  private readonly remover: ContainerRemover;

  private constructor(
    readonly root: string,
    readonly project: Project,
    public state: ProjectState,
  ) {
    this.images = openImageStore(root);
    this.access = new SupervisorAccess(root, project.name);
    this.saver = new RecordSaver(root, () => this.state);
    this.remover = new ContainerRemover(this);
  }

  static async open(root: string, project: Project): Promise<ProjectRuntime> {
    const state = (await readProjectState(root, project.name)) ?? emptyProjectState(project.name);
    state.workingDir = project.workingDir;
    state.configFiles = project.composeFiles;
    return new ProjectRuntime(root, project, state);
  }

  get name(): string {
    return this.project.name;
  }

  /**
   * Writes the record; concurrent callers are serialized and each sees its change written.
   * Changes made while a write is queued ride along with it (one fsync for a burst of changes).
   */
  save(): Promise<void> {
    return this.saver.save();
  }

  /** The project's supervisor, started once even when many operations ask at the same time. */
  supervisor(): Promise<SupervisorClient> {
    return this.access.supervisor();
  }

  /** The running supervisor, without starting one. */
  existingSupervisor(): Promise<SupervisorClient | null> {
    return this.access.existing();
  }

  close(): void {
    this.access.close();
  }

  // ---- images ---------------------------------------------------------------------------

  serviceImageRef(s: Service): string {
    return serviceImageRef(s, this.name);
  }

  localImage(s: Service): ImageRecord | undefined {
    return localImage(this.images, s, this.name);
  }

  requireImage(s: Service): ImageRecord {
    return requireImage(this.images, s, this.name);
  }

  // ---- networks and volumes -------------------------------------------------------------

  /** Network keys a service attaches to, in interface order (eth0 first). */
  serviceNetworkKeys(s: Service): string[] {
    return serviceNetworkKeys(s);
  }

  networkInfo(key: string, rec: NetworkRecord): NetworkInfo {
    return networkInfo(this, key, rec);
  }

  /** Refuses to go on when an existing network differs from the file (see networks.ts). */
  checkNetworks(keys?: string[]): void {
    checkNetworks(this, keys);
  }

  /** Puts back the packet-filter rules of the project's existing networks. */
  reassertFirewall(): void {
    reassertFirewall(this);
  }

  /** Creates the network's bridge and subnet when missing; idempotent. */
  ensureNetwork(key: string): Promise<NetworkInfo> {
    return ensureProjectNetwork(this, key);
  }

  /** Creates a named volume's data directory when missing (external ones must exist). */
  ensureVolume(key: string): Promise<string> {
    return ensureProjectVolume(this, key);
  }

  // ---- containers -----------------------------------------------------------------------

  containerName(s: Service, number: number, oneOff = false): string {
    return containerName(this, s, number, oneOff);
  }

  bundleDir(name: string): string {
    return bundleDirOf(this, name);
  }

  /** The hashed definition and hash of a service as the planner sees it. */
  definitionOf(s: Service): { definition: unknown; hash: string } {
    return definitionOf(s);
  }

  /** Creates (and optionally starts) one container of a service. */
  createContainer(s: Service, opts: CreateOptions): Promise<ContainerRecord> {
    return createContainer(this, s, opts);
  }

  /** The run configuration written when the container was created. */
  runConfig(record: ContainerRecord): RunConfig {
    return readRunConfig(this, record);
  }

  startRecorded(record: ContainerRecord): Promise<ContainerStatus> {
    return startRecorded(this, record);
  }

  /** Whether processes of the container are alive (whoever started them). */
  hasProcesses(record: ContainerRecord): boolean {
    return hasProcesses(this.name, record);
  }

  stopContainer(record: ContainerRecord, timeoutMs?: number, signal?: string): Promise<void> {
    return stopContainer(this, record, timeoutMs, signal);
  }

  /**
   * Stops (if needed) and removes a container with its kernel objects; named volumes stay.
   * Removals asked for in the same turn of the event loop go together (see removal.ts).
   */
  removeContainer(record: ContainerRecord, opts: RemoveOptions = {}): Promise<void> {
    return this.remover.remove(record, opts);
  }

  /**
   * Removes the rest of one-off containers the supervisor removed on its own (a `run --rm`
   * whose CLI was killed) or that never started; hold the project lock. Returns their names.
   */
  pruneGoneOneOffs(): Promise<string[]> {
    return pruneGoneOneOffs(this);
  }

  // ---- observation ----------------------------------------------------------------------

  /** Status of every recorded container, from the supervisor (or its files when it is not running). */
  statuses(): Promise<Map<string, ContainerStatus>> {
    return containerStatuses(this);
  }

  observe(): Promise<ObservedContainer[]> {
    return observeContainers(this);
  }

  // ---- teardown -------------------------------------------------------------------------

  /** Forgets a project that has no container left (record, supervisor files, cgroups); volumes stay. */
  forget(): Promise<void> {
    return forgetProject(this);
  }

  /** Removes the project's networks (after its containers) and whatever a crash left behind. */
  removeNetworks(): Promise<void> {
    return removeProjectNetworks(this);
  }

  removeNamedVolumes(): Promise<string[]> {
    return removeNamedVolumes(this);
  }
}
