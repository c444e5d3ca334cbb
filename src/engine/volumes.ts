/**
 * Named volumes: directories under <root>/volumes/<name>/_data that outlive containers.
 * Created on first use, removed only when asked (down -v, volume rm).
 *
 * A new volume carries a `populate.pending` marker (written before `_data` exists) until the
 * first container that mounts it has filled it from its image (`populateVolume`). The filling
 * goes into `_data.populating` and is renamed onto the empty `_data`, so a crash at any moment
 * leaves either the marker with an empty `_data` (the next try starts over) or a complete
 * `_data` (the marker is then only removed): never a half-copied volume taken as initialized.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TscError } from '../common/errors.js';
import { layout } from '../common/layout.js';
import { stateRoot } from '../common/paths.js';
import { faultPoint } from '../sys/fault.js';

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export interface VolumeInfo {
  name: string;
  /** host directory to bind-mount into containers */
  mountpoint: string;
  createdAt: string;
  labels: Record<string, string>;
}

function check(name: string): void {
  if (!NAME_RE.test(name)) {
    throw new TscError('ENGINE_SETUP', `invalid volume name "${name}": use [a-zA-Z0-9][a-zA-Z0-9_.-]*`);
  }
}

export function volumeDir(name: string, root = stateRoot()): string {
  check(name);
  return layout.volume(root, name);
}

function read(name: string, root: string): VolumeInfo | undefined {
  const dir = volumeDir(name, root);
  if (!existsSync(path.join(dir, '_data'))) return undefined;
  let meta: Partial<VolumeInfo> = {};
  try {
    meta = JSON.parse(readFileSync(path.join(dir, 'volume.json'), 'utf8')) as Partial<VolumeInfo>;
  } catch {
    // a volume without metadata (made by hand) is still a volume
  }
  return { name, mountpoint: path.join(dir, '_data'), createdAt: meta.createdAt ?? '', labels: meta.labels ?? {} };
}

/** Creates the volume if missing; returns it and whether it was created now. */
export function ensureVolume(name: string, opts: { root?: string; labels?: Record<string, string> } = {}): VolumeInfo & { created: boolean } {
  const root = opts.root ?? stateRoot();
  const existing = read(name, root);
  if (existing) return { ...existing, created: false };
  const dir = volumeDir(name, root);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    writeFileSync(path.join(dir, POPULATE_MARKER), '');
    const info: VolumeInfo = { name, mountpoint: path.join(dir, '_data'), createdAt: new Date().toISOString(), labels: opts.labels ?? {} };
    writeFileSync(path.join(dir, 'volume.json'), JSON.stringify(info, null, 2) + '\n');
    mkdirSync(path.join(dir, '_data'), { mode: 0o755 });
    faultPoint(`volume ${name}`);
    return { ...info, created: true };
  } catch (e) {
    throw new TscError('ENGINE_SETUP', `cannot create volume ${name} in ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}

const POPULATE_MARKER = 'populate.pending';

/**
 * Fills a volume created by ensureVolume and not yet populated: `fill(dir)` writes the content
 * into an empty directory and returns whether there was any (false: `_data` stays as it is).
 * `fill` undefined (nocopy) settles the volume as empty. Does nothing for a volume that was
 * already populated (or settled), or that was not made by ensureVolume. Returns whether it filled.
 */
export function populateVolume(name: string, root: string, fill: ((dir: string) => boolean) | undefined): boolean {
  const dir = volumeDir(name, root);
  const marker = path.join(dir, POPULATE_MARKER);
  if (!existsSync(marker)) return false;
  const data = path.join(dir, '_data');
  const tmp = path.join(dir, '_data.populating');
  let filled = false;
  try {
    // a non-empty _data under the marker is a finished rename whose marker removal was cut short
    if (fill && readdirSync(data).length === 0) {
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { mode: 0o755 });
      if (fill(tmp)) {
        renameSync(tmp, data); // onto the empty _data: atomic
        filled = true;
      } else rmSync(tmp, { recursive: true, force: true });
    }
    rmSync(marker, { force: true });
    return filled;
  } catch (e) {
    if (e instanceof TscError) throw e;
    throw new TscError('ENGINE_SETUP', `cannot populate volume ${name} in ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}

export function inspectVolume(name: string, root = stateRoot()): VolumeInfo | undefined {
  return read(name, root);
}

/** Deletes the volume and its data. Returns false when it did not exist. */
export function removeVolume(name: string, root = stateRoot()): boolean {
  const dir = volumeDir(name, root);
  if (!existsSync(dir)) return false;
  rmSync(dir, { recursive: true, force: true });
  return true;
}

export function listVolumes(root = stateRoot()): VolumeInfo[] {
  const base = layout.volumes(root);
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .filter((n) => NAME_RE.test(n))
    .sort()
    .map((n) => read(n, root))
    .filter((v): v is VolumeInfo => !!v);
}
