/**
 * Docker's copy-up: a volume mounted for the first time, new and empty, receives what the
 * image has at the mount point (content, ownership, modes, xattrs, symlinks, devices), and its
 * `_data` directory takes the owner and mode of the image's directory. Named and anonymous
 * volumes only (never binds or tmpfs); `volume: {nocopy: true}` (and a `subpath` mount) settle
 * a new volume as empty. The crash-safe once-only part is the engine's populateVolume.
 */
import path from 'node:path';
import { populateVolume } from '../engine/index.js';
import { copyImageDir } from '../images/index.js';
import type { Service } from '../compose/index.js';

export interface PopulateInput {
  root: string;
  service: Service;
  /** image layer directories, top-most first */
  lowerDirs: string[];
  /** host `_data` path of each named volume, by its key in the compose file */
  volumePaths: Record<string, string>;
  /** host `_data` path of each anonymous volume, by container target */
  anonymous: Record<string, string>;
}

const volumeNameOf = (dataDir: string): string => path.basename(path.dirname(dataDir));

/** Populates every new volume the service mounts; returns the names of the volumes filled. */
export function populateNewVolumes(i: PopulateInput): string[] {
  const filled: string[] = [];
  const one = (dataDir: string, target: string, copy: boolean): void => {
    const name = volumeNameOf(dataDir);
    if (populateVolume(name, i.root, copy ? (dir) => copyImageDir(i.lowerDirs, target, dir) : undefined)) filled.push(name);
  };
  const covered = new Set<string>();
  for (const v of i.service.volumes) {
    if (v.type !== 'volume') continue;
    covered.add(v.target);
    const dir = v.source !== undefined ? i.volumePaths[v.source] : i.anonymous[v.target];
    if (!dir) continue;
    one(dir, v.target, !v.volume?.nocopy && !v.volume?.subpath);
  }
  // the image's own VOLUME paths, as anonymous volumes
  for (const [target, dir] of Object.entries(i.anonymous)) if (!covered.has(target)) one(dir, target, true);
  return filled;
}
