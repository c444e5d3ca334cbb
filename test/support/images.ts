/**
 * Image fixtures built offline from Debian's busybox-static, as OCI image layouts (and archives):
 * - one layer: the busybox root filesystem;
 * - three layers whose upper layers replace and delete files of lower ones (a whiteout, an
 *   opaque directory) and add a hard link, a symlink, a device node, a fifo and an xattr;
 * - hostile layers (`../` entries, absolute paths, writes through a symlink).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
// @ts-expect-error plain JavaScript module shared with the command-line fixture builder
import * as builder from '../../scripts/build-busybox-image.mjs';

export interface TarEntrySpec {
  name: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  data?: Buffer | string;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, string | Buffer>;
}

export interface BuiltImage {
  manifestDigest: string;
  configDigest: string;
  diffIds: string[];
  layers: { digest: string; size: number }[];
}

const b = builder as {
  tarEntries(e: TarEntrySpec[]): Buffer;
  busyboxEntries(): TarEntrySpec[];
  writeOciImage(
    dir: string,
    image: { ref: string; layers: (TarEntrySpec[] | Buffer)[]; gzip?: boolean; config?: object; architecture?: string; variant?: string },
  ): BuiltImage;
  packDirectory(dir: string, out: string): string;
};

export const tarEntries = b.tarEntries;
export const busyboxEntries = b.busyboxEntries;
export const writeOciImage = b.writeOciImage;
export const packDirectory = b.packDirectory;

/** The layout tag under which each fixture is stored (the part skopeo's oci:DIR:TAG uses). */
export const LAYOUT_TAG = 'latest';

export function buildOneLayer(dir: string, ref = 'docker.io/library/busybox:latest'): BuiltImage {
  return writeOciImage(dir, { ref, layers: [busyboxEntries()] });
}

export const THREE_LAYER_MTIME = 1600000000;

export function threeLayerLayers(): TarEntrySpec[][] {
  const base: TarEntrySpec[] = [
    ...busyboxEntries(),
    { name: 'etc/motd', type: 'file', data: 'v1\n' },
    { name: 'data', type: 'dir', mode: 0o755 },
    { name: 'data/keep.txt', type: 'file', data: 'keep\n' },
    { name: 'data/old.txt', type: 'file', data: 'old\n' },
    { name: 'opt', type: 'dir', mode: 0o755 },
    { name: 'opt/app', type: 'dir', mode: 0o755 },
    { name: 'opt/app/a.txt', type: 'file', data: 'a\n' },
    { name: 'opt/app/b.txt', type: 'file', data: 'b\n' },
    { name: 'opt/app/sub', type: 'dir', mode: 0o755 },
    { name: 'opt/app/sub/deep.txt', type: 'file', data: 'deep\n' },
  ];
  const middle: TarEntrySpec[] = [
    { name: 'etc', type: 'dir', mode: 0o755 },
    { name: 'etc/motd', type: 'file', data: 'v2\n' },
    { name: 'data', type: 'dir', mode: 0o755 },
    { name: 'data/.wh.old.txt', type: 'file', data: '' },
    { name: 'opt', type: 'dir', mode: 0o755 },
    { name: 'opt/app', type: 'dir', mode: 0o755 },
    { name: 'opt/app/.wh..wh..opq', type: 'file', data: '' },
    { name: 'opt/app/c.txt', type: 'file', data: 'c\n' },
  ];
  const top: TarEntrySpec[] = [
    { name: 'data', type: 'dir', mode: 0o755 },
    { name: 'data/new.txt', type: 'file', data: 'new\n', mode: 0o640, uid: 1000, gid: 2000, mtime: THREE_LAYER_MTIME },
    { name: 'data/hardlink', type: 'hardlink', linkname: 'data/new.txt' },
    { name: 'data/symlink', type: 'symlink', linkname: 'new.txt' },
    { name: 'data/xattr.txt', type: 'file', data: 'x\n', xattrs: { 'user.tsc': 'yes' } },
    { name: 'data/fifo', type: 'fifo', mode: 0o600 },
    { name: 'data/setuid', type: 'file', data: 's', mode: 0o4755 },
    { name: 'dev', type: 'dir', mode: 0o755 },
    { name: 'dev/tsc-null', type: 'char', mode: 0o666, devmajor: 1, devminor: 3 },
    { name: 'bin/.wh.vi', type: 'file', data: '' },
    { name: `data/${'long-name-'.repeat(12)}.txt`, type: 'file', data: 'long\n' },
  ];
  return [base, middle, top];
}

export function buildThreeLayer(dir: string, ref = 'docker.io/library/layered:latest'): BuiltImage {
  return writeOciImage(dir, {
    ref,
    layers: threeLayerLayers(),
    config: { Cmd: ['cat', '/etc/motd'], WorkingDir: '/data', Labels: { 'org.tsc.fixture': 'three' } },
  });
}

/** An image whose only layer holds `entries` (e.g. a `../` entry) on top of nothing. */
export function buildHostile(dir: string, entries: TarEntrySpec[], ref = 'docker.io/library/hostile:latest'): BuiltImage {
  return writeOciImage(dir, { ref, layers: [entries] });
}

export function archiveOf(layoutDir: string, out = `${layoutDir}.tar`): string {
  return packDirectory(layoutDir, path.resolve(out));
}

export interface PlatformImage {
  architecture: string;
  variant?: string;
  layers: TarEntrySpec[][];
}

/**
 * A multi-platform image: one manifest per platform under an OCI image index, which is what
 * the layout's index.json names (push it with skopeo copy --multi-arch all).
 */
export function writeMultiPlatform(
  dir: string,
  ref: string,
  images: PlatformImage[],
): { indexDigest: string; manifests: (BuiltImage & { architecture: string; variant?: string })[] } {
  const manifests = images.map((im) => ({
    ...writeOciImage(dir, { ref, layers: im.layers, architecture: im.architecture, variant: im.variant }),
    architecture: im.architecture,
    variant: im.variant,
  }));
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: manifests.map((m) => ({
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: m.manifestDigest,
      size: readFileSync(path.join(dir, 'blobs/sha256', m.manifestDigest.slice(7))).length,
      platform: { os: 'linux', architecture: m.architecture, ...(m.variant ? { variant: m.variant } : {}) },
    })),
  };
  const bytes = Buffer.from(JSON.stringify(index));
  const indexDigest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  mkdirSync(path.join(dir, 'blobs/sha256'), { recursive: true });
  writeFileSync(path.join(dir, 'blobs/sha256', indexDigest.slice(7)), bytes);
  const tag = ref.slice(ref.lastIndexOf(':') + 1);
  writeFileSync(
    path.join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.index.v1+json',
          digest: indexDigest,
          size: bytes.length,
          annotations: { 'io.containerd.image.name': ref, 'org.opencontainers.image.ref.name': tag },
        },
      ],
    }),
  );
  return { indexDigest, manifests };
}
