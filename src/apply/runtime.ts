/**
 * A project's runtime: the glue between the compose model and the parts that act (image
 * store, network, supervisor, engine) with the project record in between. Each method does one
 * operation of a plan and records what it made BEFORE making it, so a crash at any moment
 * leaves a record that the next `up` or `down` can repair from.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { TscError } from '../common/errors.js';
import { layout, PROJECT_RUNTIME_ENTRIES } from '../common/layout.js';
import { writeFileAtomicSync } from '../sys/files.js';
import { containerCgroup, ensureVolume, removeCgroupTree, removeVolume, volumeDir, type NetnsSpec } from '../engine/index.js';
import { openImageStore, type ImageRecord, type ImageStore } from '../images/index.js';
import {
  attachContainer,
  cidrString,
  cleanupProject,
  createNetns,
  deleteNetns,
  detachContainers,
  ensureNetwork,
  firewallAdd,
  linkAlias,
  netnsPathFor,
  parseCidr,
  removeNetwork,
  type NetworkInfo,
  type PortMapping,
} from '../network/index.js';
import { configHash, hashableDefinition, type ObservedContainer } from '../planner/index.js';
import type { Project, Service } from '../compose/index.js';
import {
  deleteProjectState,
  emptyProjectState,
  readProjectState,
  writeProjectState,
  type ContainerRecord,
  type NetworkRecord,
  type ProjectState,
} from '../state/index.js';
import { connectSupervisor, ensureSupervisor, type SupervisorClient } from '../supervisor/index.js';
import { bundleFiles } from '../supervisor/paths.js';
import type { ContainerStatus, RunConfig } from '../supervisor/types.js';
import { statusFromFile } from './status-file.js';
import { buildRunConfig, type AttachedNetwork, type RunOverrides } from './run-config.js';
import { populateNewVolumes } from './volume-populate.js';
import { serviceLinks } from './links.js';

/** What the supervisor's network hook needs to serve DNS and published ports for a container. */
export interface ContainerNetworkData {
  project: string;
  service: string;
  /** per network: name, gateway, whether it is internal, and the names this container answers to there */
  networks: Array<{ name: string; gateway: string; internal: boolean; address: string; names: string[] }>;
  /** the address published ports forward to (the first network's) */
  targetIp?: string;
  ports: PortMapping[];
  /** `links:` aliases this container alone resolves, to the name they stand for (a service) */
  links?: Array<{ alias: string; target: string }>;
}

export interface CreateOptions {
  number: number;
  name?: string;
  oneOff?: boolean;
  start: boolean;
  overrides?: RunOverrides;
  /** anonymous volumes to reuse (from the container being replaced), by target */
  reuseAnonymous?: Record<string, string>;
  /** extra published ports (run -p) replacing the service's */
  ports?: PortMapping[];
  /** `run` without --service-ports publishes nothing */
  publish?: boolean;
}

interface RemovalBatch {
  opts: { timeoutMs?: number; removeVolumes?: boolean };
  items: Array<{ record: ContainerRecord; resolve: () => void; reject: (err: unknown) => void }>;
}

export class ProjectRuntime {
  readonly images: ImageStore;
  private client?: SupervisorClient;
  private starting?: Promise<SupervisorClient>;
  private saving: Promise<void> = Promise.resolve();
  /** removals waiting for the end of this turn of the event loop, by options (removeContainer) */
  private readonly removals = new Map<string, RemovalBatch>();
  private queued?: Promise<void>;

  private constructor(
    readonly root: string,
    readonly project: Project,
    public state: ProjectState,
  ) {
    this.images = openImageStore(root);
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
    if (this.queued) return this.queued;
    const next = this.saving.then(() => {
      this.queued = undefined;
      return writeProjectState(this.root, this.state);
    });
    this.queued = next;
    this.saving = next.catch(() => undefined);
    return next;
  }

  /** The project's supervisor, started once even when many operations ask at the same time. */
  supervisor(): Promise<SupervisorClient> {
    this.starting ??= ensureSupervisor(this.root, this.name).then(
      (c) => (this.client = c),
      (err) => {
        this.starting = undefined;
        throw err;
      },
    );
    return this.starting;
  }

  /** The running supervisor, without starting one. */
  async existingSupervisor(): Promise<SupervisorClient | null> {
    if (this.client) return this.client;
    if (this.starting) return this.starting;
    const c = await connectSupervisor(this.root, this.name);
    if (c) this.client = c;
    return c;
  }

  close(): void {
    this.client = undefined;
    this.starting = undefined;
  }

  // ---- images ---------------------------------------------------------------------------

  serviceImageRef(s: Service): string {
    if (!s.image) {
      throw new TscError('SPEC_UNSUPPORTED', `service "${s.name}" has no image: building images (build:) is not supported by tscompose yet`, {
        hint: 'build the image elsewhere and load it with `tscompose image load -i FILE`, then set `image:`',
      });
    }
    return s.image;
  }

  localImage(s: Service): ImageRecord | undefined {
    return this.images.get(this.serviceImageRef(s));
  }

  requireImage(s: Service): ImageRecord {
    const img = this.localImage(s);
    if (!img) {
      throw new TscError('IMAGE_NOT_FOUND', `image "${s.image}" of service "${s.name}" is not in the local store`, {
        hint: 'run `tscompose pull` (or `up --pull missing`), or load it with `tscompose image load -i FILE`',
      });
    }
    return img;
  }

  // ---- networks and volumes -------------------------------------------------------------

  /** Network keys a service attaches to, in interface order (eth0 first). */
  serviceNetworkKeys(s: Service): string[] {
    if (s.network_mode) return [];
    const entries = Object.entries(s.networks);
    // higher priority first, then the order of the file (Compose sorts by priority, then name)
    entries.sort(([a, x], [b, y]) => (y?.priority ?? 0) - (x?.priority ?? 0) || a.localeCompare(b));
    return entries.map(([k]) => k);
  }

  networkInfo(key: string, rec: NetworkRecord): NetworkInfo {
    const prefixLen = Number(rec.subnet.split('/')[1] ?? 24);
    return {
      root: this.root,
      project: this.name,
      name: rec.name,
      bridgeName: rec.bridge,
      subnet: rec.subnet,
      gateway: rec.gateway,
      prefixLen,
      internal: rec.internal ?? false,
      mtu: Number((rec as { mtu?: number }).mtu ?? 1500),
      external: rec.external ?? false,
    };
  }

  /**
   * Refuses to go on when a network that exists differs from its definition in the file
   * (subnet, gateway, internal, MTU, name): a bridge cannot change while containers use it, and
   * going on would silently keep the old one. Compose refuses the same way. Checked before any
   * change is made. `keys` limits the check to those networks.
   */
  checkNetworks(keys?: string[]): void {
    const diffs: string[] = [];
    for (const [key, rec] of Object.entries(this.state.networks)) {
      if (keys && !keys.includes(key)) continue;
      const net = this.project.networks[key];
      if (!net || rec.external || net.external) continue;
      const d: string[] = [];
      const ipam = net.ipam?.config?.[0];
      if (net.name !== rec.name) d.push(`name ${rec.name} → ${net.name}`);
      if (ipam?.subnet) {
        let want = ipam.subnet;
        try {
          want = cidrString(parseCidr(ipam.subnet));
        } catch {
          // compared as written; the network layer reports a malformed subnet
        }
        if (want !== rec.subnet) d.push(`subnet ${rec.subnet} → ${ipam.subnet}`);
      }
      if (ipam?.gateway && ipam.gateway !== rec.gateway) d.push(`gateway ${rec.gateway} → ${ipam.gateway}`);
      if (Boolean(net.internal) !== Boolean(rec.internal)) d.push(`internal ${Boolean(rec.internal)} → ${Boolean(net.internal)}`);
      const mtu = Number(net.driver_opts?.['com.docker.network.driver.mtu'] ?? 0) || undefined;
      if (mtu !== undefined && rec.mtu !== undefined && mtu !== rec.mtu) d.push(`mtu ${rec.mtu} → ${mtu}`);
      if (d.length) diffs.push(`network "${key}" (${d.join(', ')})`);
    }
    if (diffs.length) {
      throw new TscError('NETWORK', `project ${this.name}: ${diffs.join('; ')}: the file asks for another configuration than the network that exists, and a network cannot change while it exists. Nothing was changed.`, {
        hint: 'recreate it: `tscompose down` then `tscompose up` (named volumes are kept)',
      });
    }
  }

  /**
   * Puts back the packet-filter rules of the project's existing networks (a firewall reload, or
   * Docker starting after us, may have removed them or put a DROP ahead of them).
   */
  reassertFirewall(): void {
    const entries = Object.entries(this.state.networks)
      .filter(([, rec]) => !rec.external && existsSync(`/sys/class/net/${rec.bridge}`))
      .map(([key, rec]) => ({ bridge: rec.bridge, subnet: rec.subnet, internal: !!rec.internal, owner: linkAlias(this.root, this.name, this.project.networks[key]?.name ?? rec.name) }));
    if (entries.length) firewallAdd(...entries);
  }

  /** Creates the network's bridge and subnet when missing; idempotent. */
  async ensureNetwork(key: string): Promise<NetworkInfo> {
    const net = this.project.networks[key];
    if (!net) throw new TscError('SPEC_REFERENCE', `network "${key}" is not defined in project "${this.name}"`);
    if (net.driver && net.driver !== 'bridge') {
      throw new TscError('SPEC_UNSUPPORTED', `network "${key}" uses driver "${net.driver}": tscompose supports bridge networks only`);
    }
    const ipam = net.ipam?.config?.[0];
    const mtu = Number(net.driver_opts?.['com.docker.network.driver.mtu'] ?? 0) || undefined;
    const info = ensureNetwork({
      root: this.root,
      project: this.name,
      name: net.name,
      subnet: ipam?.subnet,
      gateway: ipam?.gateway,
      internal: net.internal,
      mtu,
      external: net.external ? { bridge: net.name } : undefined,
    });
    const prev = this.state.networks[key];
    this.state.networks[key] = {
      ...(prev ?? {}),
      name: info.name,
      bridge: info.bridgeName,
      subnet: `${info.subnet.split('/')[0]}/${info.prefixLen}`,
      gateway: info.gateway,
      external: info.external,
      internal: info.internal,
      mtu: info.mtu,
      created: prev?.created ?? new Date().toISOString(),
    } as NetworkRecord;
    await this.save();
    return info;
  }

  /** Creates a named volume's data directory when missing (external ones must exist). */
  async ensureVolume(key: string): Promise<string> {
    const vol = this.project.volumes[key];
    if (!vol) throw new TscError('SPEC_REFERENCE', `volume "${key}" is not defined in project "${this.name}"`);
    if (vol.driver && vol.driver !== 'local') {
      throw new TscError('SPEC_UNSUPPORTED', `volume "${key}" uses driver "${vol.driver}": tscompose supports local volumes only`);
    }
    if (vol.external) {
      const dir = volumeDir(vol.name, this.root);
      // the data directory, as for any volume (the volume's folder also holds its metadata)
      const data = layout.volumeData(this.root, vol.name);
      if (existsSync(data)) return data;
      if (!existsSync(dir)) {
        throw new TscError('SPEC_REFERENCE', `external volume "${vol.name}" (volume "${key}") does not exist`, {
          hint: `create it first, or drop "external: true" to let tscompose create it`,
        });
      }
      return dir;
    }
    const info = ensureVolume(vol.name, { root: this.root, labels: { 'com.docker.compose.project': this.name, 'com.docker.compose.volume': key, ...vol.labels } });
    if (!this.state.volumes[key]) {
      this.state.volumes[key] = { name: vol.name, path: info.mountpoint, labels: vol.labels, created: new Date().toISOString() };
      await this.save();
    }
    return info.mountpoint;
  }

  // ---- containers -----------------------------------------------------------------------

  containerName(s: Service, number: number, oneOff = false): string {
    if (oneOff) return `${this.name}-${s.name}-run-${randomBytes(6).toString('hex')}`;
    if (s.container_name) return s.container_name;
    return `${this.name}-${s.name}-${number}`;
  }

  bundleDir(name: string): string {
    return layout.container(this.root, this.name, name);
  }

  /** The hashed definition and hash of a service as the planner sees it. */
  definitionOf(s: Service): { definition: unknown; hash: string } {
    const definition = hashableDefinition(s);
    return { definition, hash: configHash(s) };
  }

  /** Creates (and optionally starts) one container of a service. */
  async createContainer(s: Service, opts: CreateOptions): Promise<ContainerRecord> {
    const image = this.requireImage(s);
    const name = opts.name ?? this.containerName(s, opts.number, opts.oneOff);
    const bundleDir = this.bundleDir(name);
    const { definition, hash } = this.definitionOf(s);

    // the netns of a container of its own, or another's
    let netns: NetnsSpec;
    let netnsPath: string | undefined;
    let sharedHostname: string | undefined;
    const mode = s.network_mode;
    if (mode === 'host') netns = { kind: 'host' };
    else if (mode === 'none') netns = { kind: 'none' };
    else if (mode && (mode.startsWith('service:') || mode.startsWith('container:'))) {
      const owner = this.sharedNetns(mode, s.name);
      netns = { kind: 'path', path: owner.netns! };
      // Docker: a container on another's network takes that container's hostname
      try {
        sharedHostname = this.runConfig(owner).spec.hostname;
      } catch {
        /* no run config: keep our own */
      }
    } else if (mode) {
      throw new TscError('SPEC_UNSUPPORTED', `service "${s.name}": network_mode "${mode}" is not supported (use host, none, service:NAME or networks)`);
    } else {
      netnsPath = netnsPathFor(this.root, this.name, name);
      netns = { kind: 'path', path: netnsPath };
    }

    // volumes
    const volumePaths: Record<string, string> = {};
    const anonymous: Record<string, string> = {};
    for (const v of s.volumes) {
      if (v.type !== 'volume') continue;
      if (v.source !== undefined) volumePaths[v.source] = await this.ensureVolume(v.source);
      else anonymous[v.target] = opts.reuseAnonymous?.[v.target] ?? '';
    }
    const covered = new Set(s.volumes.map((v) => v.target));
    for (const target of Object.keys(image.config.Volumes ?? {})) {
      if (!covered.has(target)) anonymous[target] = opts.reuseAnonymous?.[target] ?? '';
    }
    const anonNames: string[] = [];
    for (const target of Object.keys(anonymous)) {
      let dir = anonymous[target]!;
      if (!dir || !existsSync(dir)) {
        const volName = randomBytes(32).toString('hex');
        dir = ensureVolume(volName, { root: this.root, labels: { 'com.docker.compose.project': this.name, 'com.docker.volume.anonymous': '' } }).mountpoint;
      }
      anonymous[target] = dir;
      anonNames.push(path.basename(path.dirname(dir)));
    }

    // new volumes receive the image's content at their mount point (before anything runs)
    populateNewVolumes({ root: this.root, service: s, lowerDirs: this.images.rootfs(image.id).lowerDirs, volumePaths, anonymous });

    // record first: a crash from here on leaves something `down` can find
    const publicId = randomBytes(32).toString('hex');
    const record: ContainerRecord = {
      id: name,
      name,
      publicId,
      service: s.name,
      number: opts.number,
      oneOff: opts.oneOff ?? false,
      configHash: hash,
      definition,
      image: this.serviceImageRef(s),
      imageId: image.id,
      created: new Date().toISOString(),
      netns: netnsPath,
      bundleDir,
      anonymousVolumes: anonNames,
      addresses: {},
    };
    this.state.containers[name] = record;
    await this.save();

    try {
      mkdirSync(bundleDir, { recursive: true, mode: 0o700 });
      const attached: AttachedNetwork[] = [];
      if (netnsPath) {
        createNetns(netnsPath);
        const keys = this.serviceNetworkKeys(s);
        for (let idx = 0; idx < keys.length; idx++) {
          const key = keys[idx]!;
          const rec = this.state.networks[key];
          const info = rec ? this.networkInfo(key, rec) : await this.ensureNetwork(key);
          const sn = s.networks[key];
          const att = attachContainer({ netnsPath, network: info, container: name, ifName: `eth${idx}`, address: sn?.ipv4_address });
          // Docker also answers to the short container id (the default hostname)
          const aliases = [...new Set([s.name, name, publicId.slice(0, 12), ...(sn?.aliases ?? [])])];
          attached.push({ key, name: info.name, address: att.address, gateway: att.gateway, internal: info.internal, aliases });
          record.addresses![key] = { ipv4: att.address, mac: att.mac, aliases };
        }
        await this.save();
      }

      const run = buildRunConfig({
        root: this.root,
        project: this.name,
        service: s,
        image,
        lowerDirs: this.images.rootfs(image.id).lowerDirs,
        name,
        containerId: publicId,
        sharedHostname,
        composeLabels: {
          'com.docker.compose.config-hash': hash,
          'com.docker.compose.image': image.id,
          'com.docker.compose.project.working_dir': this.project.workingDir,
          'com.docker.compose.project.config_files': this.project.composeFiles.join(','),
        },
        number: opts.number,
        bundleDir,
        netns,
        networks: attached,
        volumePaths,
        anonymousVolumes: anonymous,
        overrides: opts.overrides,
        oneOff: opts.oneOff,
      });
      const publish = opts.publish ?? true;
      const data: ContainerNetworkData = {
        project: this.name,
        service: s.name,
        networks: attached.map((a) => ({ name: a.name, gateway: a.gateway, internal: a.internal, address: a.address, names: a.aliases })),
        targetIp: attached[0]?.address ?? (netns.kind === 'host' ? '127.0.0.1' : undefined),
        ports: opts.ports ?? (publish ? portMappings(s) : []),
        links: serviceLinks(s).map((l) => ({ alias: l.alias, target: l.service })),
      };
      if (data.ports.length > 0 && !data.targetIp) {
        throw new TscError('NETWORK', `service "${s.name}" publishes ports but has no network address (network_mode ${s.network_mode ?? 'none'})`);
      }
      run.network = data;
      // atomic (never a torn run.json); not fsynced, as before: the record is the durable part
      writeFileAtomicSync(bundleFiles(bundleDir).run, JSON.stringify(run), { mode: 0o600, durable: false });
      if (opts.start) await this.startRecorded(record);
      return record;
    } catch (err) {
      await this.destroyContainer(record, { removeVolumes: false }).catch(() => undefined);
      throw err;
    }
  }

  private sharedNetns(mode: string, self: string): ContainerRecord {
    const [kind, target] = mode.split(':', 2) as [string, string];
    const c =
      kind === 'service'
        ? Object.values(this.state.containers).find((r) => r.service === target && !r.oneOff && r.netns)
        : Object.values(this.state.containers).find((r) => r.name === target && r.netns);
    if (!c?.netns) {
      throw new TscError('SPEC_REFERENCE', `service "${self}": network_mode "${mode}" names a ${kind} with no running container`, {
        hint: kind === 'service' ? `add depends_on: [${target}] so it is created first` : undefined,
      });
    }
    return c;
  }

  /** The run configuration written when the container was created. */
  runConfig(record: ContainerRecord): RunConfig {
    const file = bundleFiles(record.bundleDir ?? this.bundleDir(record.name)).run;
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as RunConfig;
    } catch {
      throw new TscError('STATE_CORRUPT', `container ${record.name} has no run configuration (${file})`, {
        hint: 'recreate it with `tscompose up --force-recreate`',
      });
    }
  }

  async startRecorded(record: ContainerRecord): Promise<ContainerStatus> {
    const sup = await this.supervisor();
    const res = await sup.run(this.runConfig(record));
    return res.status;
  }

  /** Whether processes of the container are alive (whoever started them). */
  hasProcesses(record: ContainerRecord): boolean {
    const cg = containerCgroup(`tscompose/${this.name}/${record.name}`);
    return cg.exists() && !cg.isEmpty();
  }

  async stopContainer(record: ContainerRecord, timeoutMs?: number, signal?: string): Promise<void> {
    // a supervisor that died left its containers running: a new one adopts them and stops this one
    const sup = (await this.existingSupervisor()) ?? (this.hasProcesses(record) ? await this.supervisor() : null);
    if (!sup) return;
    try {
      await sup.stop(record.name, { timeoutMs, signal });
    } catch (err) {
      if (isUnknownContainer(err)) return;
      throw err;
    }
  }

  /**
   * Stops (if needed) and removes a container with its kernel objects; named volumes stay.
   * Removals asked for in the same turn of the event loop (down's parallel actions) go together:
   * one supervisor request stops and removes them all, and the record is written once.
   */
  removeContainer(record: ContainerRecord, opts: { timeoutMs?: number; removeVolumes?: boolean } = {}): Promise<void> {
    const key = `${opts.timeoutMs ?? ''}/${opts.removeVolumes ? 'v' : ''}`;
    let batch = this.removals.get(key);
    if (!batch) {
      const b: RemovalBatch = { opts, items: [] };
      this.removals.set(key, b);
      setImmediate(() => {
        this.removals.delete(key);
        void this.removeContainers(b);
      });
      batch = b;
    }
    const items = batch.items;
    return new Promise((resolve, reject) => items.push({ record, resolve, reject }));
  }

  private async removeContainers(batch: RemovalBatch): Promise<void> {
    const records = batch.items.map((i) => i.record);
    const errors = new Map<string, unknown>();
    try {
      // a supervisor that died left its containers running: a new one adopts them and stops them
      const sup = (await this.existingSupervisor()) ?? (records.some((r) => this.hasProcesses(r)) ? await this.supervisor() : null);
      if (sup) {
        for (const o of await sup.removeMany(records.map((r) => r.name), { timeoutMs: batch.opts.timeoutMs })) {
          if (o.error && o.error.code !== 'NO_SUCH_SERVICE') errors.set(o.id, new TscError(o.error.code, o.error.message, { hint: o.error.hint }));
        }
      }
      const stopped = records.filter((r) => !errors.has(r.name));
      for (const [id, err] of await this.destroyLocal(stopped, { removeVolumes: batch.opts.removeVolumes ?? false })) errors.set(id, err);
    } catch (err) {
      for (const r of records) if (!errors.has(r.name)) errors.set(r.name, err);
    }
    for (const { record, resolve, reject } of batch.items) {
      if (errors.has(record.name)) reject(errors.get(record.name));
      else resolve();
    }
  }

  private async destroyContainer(record: ContainerRecord, opts: { removeVolumes: boolean }): Promise<void> {
    const sup = await this.existingSupervisor();
    if (sup) {
      try {
        await sup.remove(record.name, true);
      } catch (err) {
        if (!isUnknownContainer(err)) throw err;
      }
    }
    const failed = await this.destroyLocal([record], opts);
    if (failed.size) throw failed.values().next().value;
  }

  /**
   * The part of removing containers the supervisor does not do, or did not know about (a crash
   * mid-create): cgroups, links, netns files, bundles, anonymous volumes, then the record (one
   * write for all). Returns the containers that could not be removed, with why.
   */
  private async destroyLocal(records: ContainerRecord[], opts: { removeVolumes: boolean }): Promise<Map<string, unknown>> {
    const errors = new Map<string, unknown>();
    let left: ContainerRecord[] = [];
    for (const record of records) {
      try {
        const cg = containerCgroup(`tscompose/${this.name}/${record.name}`);
        if (cg.exists()) {
          await cg.killAll();
          cg.destroy();
        }
        left.push(record);
      } catch (err) {
        errors.set(record.name, err);
      }
    }
    const detach = left.flatMap((record) =>
      Object.keys(record.addresses ?? {}).flatMap((key) => {
        const rec = this.state.networks[key];
        return rec ? [{ network: this.networkInfo(key, rec), container: record.name, withNetns: !!record.netns }] : [];
      }),
    );
    try {
      detachContainers(detach);
    } catch (err) {
      for (const r of left) errors.set(r.name, err);
      left = [];
    }
    // bundles in parallel: removed one after the other, they wait on the filesystem in turn
    await Promise.all(
      left.map(async (record) => {
        try {
          if (record.netns) deleteNetns(record.netns);
          if (record.bundleDir) await rm(record.bundleDir, { recursive: true, force: true });
          if (opts.removeVolumes) for (const v of record.anonymousVolumes ?? []) removeVolume(v, this.root);
          delete this.state.containers[record.id];
        } catch (err) {
          errors.set(record.name, err);
        }
      }),
    );
    if (records.length > errors.size) await this.save();
    return errors;
  }

  /**
   * Records the start of a container this process runs itself (an attached `run`), which the
   * supervisor, which records every other container, does not own.
   */
  recordStart(record: ContainerRecord, st: { pid: number; startTime: number; startedAt: string }): void {
    this.writeStatus(record, { state: 'running', pid: st.pid, startTime: st.startTime, startedAt: st.startedAt, finishedAt: null, exitCode: null, oomKilled: false });
  }

  /** Records the exit of a container this process ran itself (see recordStart). */
  recordExit(record: ContainerRecord, ex: { startedAt: string; exitCode: number; oomKilled: boolean }): void {
    this.writeStatus(record, {
      state: 'exited',
      pid: null,
      startTime: null,
      startedAt: ex.startedAt,
      finishedAt: new Date().toISOString(),
      exitCode: ex.oomKilled ? 137 : ex.exitCode,
      oomKilled: ex.oomKilled,
    });
  }

  private writeStatus(record: ContainerRecord, part: Pick<ContainerStatus, 'state' | 'pid' | 'startTime' | 'startedAt' | 'finishedAt' | 'exitCode' | 'oomKilled'>): void {
    const status: ContainerStatus = { id: record.id, ...part, restartCount: 0, stoppedByUser: false };
    try {
      status.labels = this.runConfig(record).labels;
    } catch {
      /* no run configuration: the status alone */
    }
    // atomic, not fsynced (as the supervisor's status writes): a reader sees the old or the new
    writeFileAtomicSync(bundleFiles(record.bundleDir ?? this.bundleDir(record.name)).status, JSON.stringify(status), { mode: 0o600, durable: false });
  }

  // ---- observation ----------------------------------------------------------------------

  /** Status of every recorded container, from the supervisor (or its files when it is not running). */
  async statuses(): Promise<Map<string, ContainerStatus>> {
    const out = new Map<string, ContainerStatus>();
    let sup = await this.existingSupervisor();
    // containers outlive their supervisor: when it is gone, a new one re-adopts them (and records
    // the exits it missed) before anyone reads a status that may be stale
    // (one-off containers are left out: an attached `run` owns its container, no supervisor does)
    if (!sup && Object.values(this.state.containers).some((r) => !r.oneOff && this.hasProcesses(r))) sup = await this.supervisor();
    if (sup) for (const st of await sup.list()) out.set(st.id, st);
    // containers the supervisor does not own (an attached `run`, or no supervisor at all): their files
    for (const rec of Object.values(this.state.containers)) {
      if (out.has(rec.id)) continue;
      const st = statusFromFile(rec.bundleDir ?? this.bundleDir(rec.name));
      if (st) out.set(rec.id, st);
    }
    return out;
  }

  async observe(): Promise<ObservedContainer[]> {
    const statuses = await this.statuses();
    return Object.values(this.state.containers).map((rec) => {
      const st = statuses.get(rec.id);
      const runFile = bundleFiles(rec.bundleDir ?? this.bundleDir(rec.name)).run;
      const broken = !existsSync(runFile);
      return {
        id: rec.id,
        name: rec.name,
        service: rec.service,
        number: rec.number,
        oneOff: rec.oneOff,
        configHash: rec.configHash,
        definition: rec.definition,
        imageDigest: rec.imageId,
        state: broken ? 'dead' : st ? (st.state === 'dead' ? 'dead' : st.state) : 'created',
        exitCode: st?.exitCode ?? undefined,
        health: st?.health?.status,
      } satisfies ObservedContainer;
    });
  }

  // ---- teardown -------------------------------------------------------------------------

  /**
   * Forgets a project that has no container left: its record, its supervisor's files and its
   * cgroup parents. Volumes stay. The lock file goes when the command releases it (session.ts:
   * deleted while held; a waiter re-checks the inode it locked, see src/state/lock.ts).
   */
  async forget(): Promise<void> {
    const dir = layout.project(this.root, this.name);
    await deleteProjectState(this.root, this.name);
    for (const f of PROJECT_RUNTIME_ENTRIES) rmSync(path.join(dir, f), { recursive: true, force: true });
    // whatever a crash left in the project's cgroup tree (every container is gone by now)
    await removeCgroupTree(`tscompose/${this.name}`);
  }

  /** Removes the project's networks (after its containers) and whatever a crash left behind. */
  async removeNetworks(): Promise<void> {
    for (const [key, rec] of Object.entries(this.state.networks)) {
      if (!rec.external) removeNetwork(this.networkInfo(key, rec));
      delete this.state.networks[key];
    }
    cleanupProject(this.root, this.name);
    await this.save();
  }

  async removeNamedVolumes(): Promise<string[]> {
    const removed: string[] = [];
    for (const [key, vol] of Object.entries(this.project.volumes)) {
      if (vol.external) continue;
      if (removeVolume(vol.name, this.root)) removed.push(vol.name);
      delete this.state.volumes[key];
    }
    for (const [key, rec] of Object.entries(this.state.volumes)) {
      if (rec.external) continue;
      if (removeVolume(rec.name, this.root)) removed.push(rec.name);
      delete this.state.volumes[key];
    }
    await this.save();
    return removed;
  }
}

/** The supervisor does not know the container (never started, or a crash cut its creation short). */
function isUnknownContainer(err: unknown): boolean {
  return err instanceof TscError && err.code === 'NO_SUCH_SERVICE';
}

/** The service's `ports:` as port-proxy mappings. */
export function portMappings(s: Service): PortMapping[] {
  const out: PortMapping[] = [];
  for (const p of s.ports) {
    if (p.protocol === 'sctp') throw new TscError('SPEC_UNSUPPORTED', `service "${s.name}": sctp ports are not supported`);
    const proto = p.protocol;
    const hostIp = p.host_ip || undefined;
    if (p.published === undefined || p.published === '') {
      out.push({ proto, hostIp, hostPort: 0, containerPort: p.target });
      continue;
    }
    const m = /^(\d+)(?:-(\d+))?$/.exec(p.published);
    if (!m) throw new TscError('SPEC_INVALID', `service "${s.name}": invalid published port "${p.published}"`);
    const start = Number(m[1]);
    const end = m[2] ? Number(m[2]) : undefined;
    out.push({ proto, hostIp, hostPort: start, hostPortEnd: end, containerPort: p.target });
  }
  return out;
}
