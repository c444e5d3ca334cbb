/**
 * A service's containers: names, the definition the planner hashes, creation (recorded before
 * any kernel object is made, so a crash at any moment leaves a record the next `up` or `down`
 * repairs from), start and stop through the supervisor.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { TscError } from '../common/errors.js';
import type { Service } from '../compose/index.js';
import { removeVolume, type NetnsSpec } from '../engine/index.js';
import { createNetns, netnsPathFor, type PortMapping } from '../network/index.js';
import { configHash, hashableDefinition } from '../planner/index.js';
import type { ContainerRecord } from '../state/index.js';
import type { ContainerStatus } from '../supervisor/types.js';
import type { RuntimeContext } from './context.js';
import { attachServiceNetworks, containerNetworkData, portMappings } from './networks.js';
import { bundleDirOf, readRunConfig, writeRunConfig } from './records.js';
import { destroyContainer } from './removal.js';
import { buildRunConfig, type AttachedNetwork, type RunOverrides } from './run-config.js';
import { requireImage, serviceImageRef } from './service-image.js';
import { hasProcesses, isUnknownContainer } from './supervisor-access.js';
import { anonymousVolumeNames, prepareContainerVolumes } from './volumes.js';

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

export function containerName(ctx: Pick<RuntimeContext, 'name'>, s: Service, number: number, oneOff = false): string {
  if (oneOff) return `${ctx.name}-${s.name}-run-${randomBytes(6).toString('hex')}`;
  if (s.container_name) return s.container_name;
  return `${ctx.name}-${s.name}-${number}`;
}

/** The hashed definition and hash of a service as the planner sees it. */
export function definitionOf(s: Service): { definition: unknown; hash: string } {
  const definition = hashableDefinition(s);
  return { definition, hash: configHash(s) };
}

/** Creates (and optionally starts) one container of a service. */
export async function createContainer(ctx: RuntimeContext, s: Service, opts: CreateOptions): Promise<ContainerRecord> {
  const image = requireImage(ctx.images, s, ctx.name);
  const name = opts.name ?? containerName(ctx, s, opts.number, opts.oneOff);
  const bundleDir = bundleDirOf(ctx, name);
  const { definition, hash } = definitionOf(s);
  const { netns, netnsPath, sharedHostname } = containerNetns(ctx, s, name);
  const anonNames = anonymousVolumeNames(s, image, opts.reuseAnonymous);

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
    image: serviceImageRef(s, ctx.name),
    imageId: image.id,
    created: new Date().toISOString(),
    netns: netnsPath,
    bundleDir,
    anonymousVolumes: Object.values(anonNames),
    addresses: {},
  };
  ctx.state.containers[name] = record;
  await ctx.save();

  try {
    const { volumePaths, anonymous } = await prepareContainerVolumes(ctx, s, image, anonNames);
    mkdirSync(bundleDir, { recursive: true, mode: 0o700 });
    let attached: AttachedNetwork[] = [];
    if (netnsPath) {
      createNetns(netnsPath);
      attached = await attachServiceNetworks(ctx, s, record, netnsPath);
      await ctx.save();
    }

    const run = buildRunConfig({
      root: ctx.root,
      project: ctx.name,
      projectDir: ctx.project.workingDir,
      service: s,
      image,
      lowerDirs: ctx.images.rootfs(image.id).lowerDirs,
      name,
      containerId: publicId,
      sharedHostname,
      composeLabels: {
        'com.docker.compose.config-hash': hash,
        'com.docker.compose.image': image.id,
        'com.docker.compose.project.working_dir': ctx.project.workingDir,
        'com.docker.compose.project.config_files': ctx.project.composeFiles.join(','),
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
    run.network = containerNetworkData(ctx, s, attached, netns.kind === 'host', opts.ports ?? (publish ? portMappings(s) : []));
    writeRunConfig(bundleDir, run);
    if (opts.start) await startRecorded(ctx, record);
    return record;
  } catch (err) {
    const destroyed = await destroyContainer(ctx, record, { removeVolumes: false }).then(
      () => true,
      () => false,
    );
    // the anonymous volumes made for this container hold nothing yet; once no record names them
    // (else the next `up` or `down` finishes the removal and they go with the record)
    if (destroyed && !ctx.state.containers[record.name]) {
      const reused = new Set(Object.values(opts.reuseAnonymous ?? {}).map((dir) => path.basename(path.dirname(dir))));
      for (const v of Object.values(anonNames)) if (!reused.has(v)) removeVolume(v, ctx.root);
    }
    throw err;
  }
}

/** The netns of a container of its own (a file to create), the host's, none, or another's. */
function containerNetns(ctx: RuntimeContext, s: Service, name: string): { netns: NetnsSpec; netnsPath?: string; sharedHostname?: string } {
  const mode = s.network_mode;
  if (mode === 'host') return { netns: { kind: 'host' } };
  if (mode === 'none') return { netns: { kind: 'none' } };
  if (mode && (mode.startsWith('service:') || mode.startsWith('container:'))) {
    const owner = sharedNetns(ctx, mode, s.name);
    let sharedHostname: string | undefined;
    // Docker: a container on another's network takes that container's hostname
    try {
      sharedHostname = readRunConfig(ctx, owner).spec.hostname;
    } catch {
      /* no run config: keep our own */
    }
    return { netns: { kind: 'path', path: owner.netns! }, sharedHostname };
  }
  if (mode) {
    throw new TscError('SPEC_UNSUPPORTED', `service "${s.name}": network_mode "${mode}" is not supported (use host, none, service:NAME or networks)`);
  }
  const netnsPath = netnsPathFor(ctx.root, ctx.name, name);
  return { netns: { kind: 'path', path: netnsPath }, netnsPath };
}

function sharedNetns(ctx: RuntimeContext, mode: string, self: string): ContainerRecord {
  const [kind, target] = mode.split(':', 2) as [string, string];
  const c =
    kind === 'service'
      ? Object.values(ctx.state.containers).find((r) => r.service === target && !r.oneOff && r.netns)
      : Object.values(ctx.state.containers).find((r) => r.name === target && r.netns);
  if (!c?.netns) {
    throw new TscError('SPEC_REFERENCE', `service "${self}": network_mode "${mode}" names a ${kind} with no running container`, {
      hint: kind === 'service' ? `add depends_on: [${target}] so it is created first` : undefined,
    });
  }
  return c;
}

/** Starts a recorded container through the supervisor. */
export async function startRecorded(ctx: RuntimeContext, record: ContainerRecord): Promise<ContainerStatus> {
  const sup = await ctx.supervisor();
  const res = await sup.run(readRunConfig(ctx, record));
  return res.status;
}

export async function stopContainer(ctx: RuntimeContext, record: ContainerRecord, timeoutMs?: number, signal?: string): Promise<void> {
  // a supervisor that died left its containers running: a new one adopts them and stops this one
  const sup = (await ctx.existingSupervisor()) ?? (hasProcesses(ctx.name, record) ? await ctx.supervisor() : null);
  if (!sup) return;
  try {
    await sup.stop(record.name, { timeoutMs, signal });
  } catch (err) {
    if (isUnknownContainer(err)) return;
    throw err;
  }
}
