/**
 * The project's volumes: named ones made from the file's definitions (external ones must
 * exist), the anonymous ones a new container needs (reused from the container it replaces),
 * filled from the image when new, and the named ones removed by `down -v`.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { TscError } from '../common/errors.js';
import { layout } from '../common/layout.js';
import type { Service } from '../compose/index.js';
import { ensureVolume, inspectVolume, removeVolume, volumeDir } from '../engine/index.js';
import type { ImageRecord } from '../images/index.js';
import type { RuntimeContext } from './context.js';
import { populateNewVolumes } from './volume-populate.js';

/** Creates a named volume's data directory when missing (external ones must exist); its host path. */
export async function ensureProjectVolume(ctx: RuntimeContext, key: string): Promise<string> {
  const vol = ctx.project.volumes[key];
  if (!vol) throw new TscError('SPEC_REFERENCE', `volume "${key}" is not defined in project "${ctx.name}"`);
  if (vol.driver && vol.driver !== 'local') {
    throw new TscError('SPEC_UNSUPPORTED', `volume "${key}" uses driver "${vol.driver}": tscompose supports local volumes only`);
  }
  if (vol.external) {
    const dir = volumeDir(vol.name, ctx.root);
    // the data directory, as for any volume (the volume's folder also holds its metadata)
    const data = layout.volumeData(ctx.root, vol.name);
    if (existsSync(data)) return data;
    if (!existsSync(dir)) {
      throw new TscError('SPEC_REFERENCE', `external volume "${vol.name}" (volume "${key}") does not exist`, {
        hint: `create it first, or drop "external: true" to let tscompose create it`,
      });
    }
    return dir;
  }
  const info = ensureVolume(vol.name, { root: ctx.root, labels: { 'com.docker.compose.project': ctx.name, 'com.docker.compose.volume': key, ...vol.labels } });
  if (!ctx.state.volumes[key]) {
    ctx.state.volumes[key] = { name: vol.name, path: info.mountpoint, labels: vol.labels, created: new Date().toISOString() };
    await ctx.save();
  }
  return info.mountpoint;
}

export interface ContainerVolumes {
  /** host path of each named volume by its key in the compose file */
  volumePaths: Record<string, string>;
  /** host paths of anonymous volumes, by container target path */
  anonymous: Record<string, string>;
}

/**
 * The anonymous volumes a new container of `s` mounts (the service's and the image's VOLUMEs not
 * covered), by container target: the name of the one the replaced container had there, else a new
 * name. Decided before the container is recorded, so that the record names every volume the
 * container will have and a kill between making a volume and recording it orphans nothing.
 */
export function anonymousVolumeNames(s: Service, image: ImageRecord, reuseAnonymous?: Record<string, string>): Record<string, string> {
  const targets = s.volumes.filter((v) => v.type === 'volume' && v.source === undefined).map((v) => v.target);
  const covered = new Set(s.volumes.map((v) => v.target));
  for (const target of Object.keys(image.config.Volumes ?? {})) if (!covered.has(target)) targets.push(target);
  const names: Record<string, string> = {};
  for (const target of targets) {
    const dir = reuseAnonymous?.[target];
    names[target] = dir && existsSync(dir) ? path.basename(path.dirname(dir)) : randomBytes(32).toString('hex');
  }
  return names;
}

/** The label of an anonymous volume naming the container path it was made for. */
const ANONYMOUS_TARGET = 'tscompose.volume.target';

/**
 * The host paths of recorded anonymous volumes, by the container path each was made for (from
 * its label): what a recreate reuses when the replaced container's run config is gone (a kill
 * during its removal).
 */
export function anonymousVolumesByLabel(root: string, names: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const v = inspectVolume(name, root);
    const target = v?.labels[ANONYMOUS_TARGET];
    if (v && target) out[target] = v.mountpoint;
  }
  return out;
}

/**
 * The volumes a new container of `s` mounts: its named volumes (made when missing) and the
 * anonymous ones named by anonymousVolumeNames (made when missing). New ones receive the image's
 * content at their mount point, before anything runs.
 */
export async function prepareContainerVolumes(
  ctx: RuntimeContext,
  s: Service,
  image: ImageRecord,
  anonNames: Record<string, string>,
): Promise<ContainerVolumes> {
  const volumePaths: Record<string, string> = {};
  for (const v of s.volumes) {
    if (v.type === 'volume' && v.source !== undefined) volumePaths[v.source] = await ensureProjectVolume(ctx, v.source);
  }
  const anonymous: Record<string, string> = {};
  for (const [target, name] of Object.entries(anonNames)) {
    const labels = { 'com.docker.compose.project': ctx.name, 'com.docker.volume.anonymous': '', [ANONYMOUS_TARGET]: target };
    anonymous[target] = ensureVolume(name, { root: ctx.root, labels }).mountpoint;
  }

  // new volumes receive the image's content at their mount point (before anything runs)
  populateNewVolumes({ root: ctx.root, service: s, lowerDirs: ctx.images.rootfs(image.id).lowerDirs, volumePaths, anonymous });
  return { volumePaths, anonymous };
}

/** `down -v`: removes the project's named volumes (never external ones); the names removed. */
export async function removeNamedVolumes(ctx: RuntimeContext): Promise<string[]> {
  const removed: string[] = [];
  for (const [key, vol] of Object.entries(ctx.project.volumes)) {
    if (vol.external) continue;
    if (removeVolume(vol.name, ctx.root)) removed.push(vol.name);
    delete ctx.state.volumes[key];
  }
  for (const [key, rec] of Object.entries(ctx.state.volumes)) {
    if (rec.external) continue;
    if (removeVolume(rec.name, ctx.root)) removed.push(rec.name);
    delete ctx.state.volumes[key];
  }
  await ctx.save();
  return removed;
}
