/**
 * Named volumes: directories under <root>/volumes/<name>/_data that outlive containers.
 * Created on first use, removed only when asked (down -v, volume rm).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TscError } from '../common/errors.js';
import { layout } from '../common/layout.js';
import { stateRoot } from '../common/paths.js';

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
    mkdirSync(path.join(dir, '_data'), { recursive: true, mode: 0o755 });
    const info: VolumeInfo = { name, mountpoint: path.join(dir, '_data'), createdAt: new Date().toISOString(), labels: opts.labels ?? {} };
    writeFileSync(path.join(dir, 'volume.json'), JSON.stringify(info, null, 2) + '\n');
    return { ...info, created: true };
  } catch (e) {
    throw new TscError('ENGINE_SETUP', `cannot create volume ${name} in ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
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
