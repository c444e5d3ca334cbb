/**
 * `image load` of archives made by skopeo (oci-archive: and docker-archive:), hostile archives
 * and layers, and removal that keeps layers other images still use.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

import { ImageStore } from '../../../src/images/index.js';
import { TscError } from '../../../src/common/errors.js';
import { archiveOf, buildHostile, buildOneLayer, buildThreeLayer, busyboxEntries, tarEntries, writeOciImage, LAYOUT_TAG } from '../../support/images.js';

const execFileP = promisify(execFile);
let tmp: string;

async function expectTscError(p: Promise<unknown>, code: string, re?: RegExp): Promise<TscError> {
  try {
    await p;
  } catch (e) {
    if (!(e instanceof TscError)) throw e;
    expect(e.code).toBe(code);
    if (re) expect(e.message).toMatch(re);
    return e;
  }
  throw new Error(`expected a ${code} error`);
}

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'tsc-images-load-'));
  buildOneLayer(path.join(tmp, 'one'));
  buildThreeLayer(path.join(tmp, 'three'));
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('image load', () => {
  it('loads an OCI archive made by skopeo copy oci-archive:', async () => {
    const archive = path.join(tmp, 'three-oci.tar');
    await execFileP('skopeo', ['copy', '--quiet', `oci:${path.join(tmp, 'three')}:${LAYOUT_TAG}`, `oci-archive:${archive}:docker.io/tsc/three:v1`]);
    const store = new ImageStore(path.join(tmp, 'store-oci'));
    const [rec] = await store.load(archive);
    expect(rec.repoTags).toEqual(['docker.io/tsc/three:v1']);
    expect(rec.diffIds).toHaveLength(3);
    const { lowerDirs } = store.rootfs(rec.id);
    expect(readFileSync(path.join(lowerDirs[0], 'data/new.txt'), 'utf8')).toBe('new\n');
    expect(store.get('tsc/three:v1')?.id).toBe(rec.id);
    expect(readdirSync(store.blobs.tmpDir)).toEqual([]);
  });

  it('loads a docker save archive made by skopeo copy docker-archive:', async () => {
    const archive = path.join(tmp, 'one-docker.tar');
    await execFileP('skopeo', ['copy', '--quiet', `oci:${path.join(tmp, 'one')}:${LAYOUT_TAG}`, `docker-archive:${archive}:tsc/busybox:dock`]);
    const store = new ImageStore(path.join(tmp, 'store-docker'));
    const [rec] = await store.load(archive);
    expect(rec.repoTags).toEqual(['docker.io/tsc/busybox:dock']);
    const { lowerDirs } = store.rootfs(rec.id);
    expect(readFileSync(path.join(lowerDirs[0], 'bin/busybox')).equals(readFileSync('/bin/busybox'))).toBe(true);
    expect(rec.config.Cmd).toEqual(['sh']);
  });

  it('loads the archive written by scripts/build-busybox-image.mjs (the quickstart image)', async () => {
    const archive = path.join(tmp, 'quick.tar');
    await execFileP(process.execPath, [path.resolve('scripts/build-busybox-image.mjs'), archive]);
    const store = new ImageStore(path.join(tmp, 'store-quick'));
    const [rec] = await store.load(archive);
    expect(store.get('busybox')?.id).toBe(rec.id);
    // loading again changes nothing, gzip-compressed archives load too
    writeFileSync(`${archive}.gz`, gzipSync(readFileSync(archive)));
    const [again] = await store.load(`${archive}.gz`);
    expect(again.id).toBe(rec.id);
    expect(store.list()).toHaveLength(1);
  });

  it('rejects a layer with a ../ entry, an absolute path or a write through a symlink', async () => {
    const outside = path.join(tmp, 'outside');
    mkdirSync(outside, { recursive: true });
    const cases: { name: string; entries: Parameters<typeof buildHostile>[1]; re: RegExp }[] = [
      {
        name: 'dotdot',
        entries: [
          { name: 'etc', type: 'dir' },
          { name: '../../../../../../evil', type: 'file', data: 'x' },
        ],
        re: /climbs out/,
      },
      { name: 'abs', entries: [{ name: `${outside}/abs`, type: 'file', data: 'x' }], re: /absolute path/ },
      {
        name: 'symlink',
        entries: [
          { name: 'esc', type: 'symlink', linkname: outside },
          { name: 'esc/pwned', type: 'file', data: 'x' },
        ],
        re: /passes through the symlink "esc"/,
      },
      {
        name: 'hardlink',
        entries: [{ name: 'hl', type: 'hardlink', linkname: '../../../../etc/passwd' }],
        re: /climbs out/,
      },
    ];
    for (const c of cases) {
      const layout = path.join(tmp, `hostile-${c.name}`);
      buildHostile(layout, c.entries, `docker.io/tsc/hostile-${c.name}:latest`);
      const store = new ImageStore(path.join(tmp, `store-hostile-${c.name}`));
      await expectTscError(store.load(archiveOf(layout)), 'IMAGE_UNSAFE', c.re);
      expect(store.list()).toEqual([]);
      expect(store.layers.list()).toEqual([]);
      expect(existsSync(path.join(store.layers.dir, 'tmp')) ? readdirSync(path.join(store.layers.dir, 'tmp')) : []).toEqual([]);
    }
    expect(readdirSync(outside)).toEqual([]);
    expect(existsSync('/evil')).toBe(false);
  });

  it('rejects an archive whose own entries climb out with ../', async () => {
    const archive = path.join(tmp, 'evil-archive.tar');
    writeFileSync(
      archive,
      tarEntries([
        { name: 'oci-layout', type: 'file', data: '{}' },
        { name: '../tsc-evil-archive', type: 'file', data: 'x' },
      ]),
    );
    const store = new ImageStore(path.join(tmp, 'store-evil-archive'));
    await expectTscError(store.load(archive), 'IMAGE_UNSAFE', /climbs out/);
    expect(existsSync(path.join(store.blobs.tmpDir, '..', 'tsc-evil-archive'))).toBe(false);
    expect(readdirSync(store.blobs.tmpDir)).toEqual([]);
  });

  it('rejects an archive blob that does not match its digest', async () => {
    const layout = path.join(tmp, 'corrupt');
    const built = buildOneLayer(layout, 'docker.io/tsc/corrupt:latest');
    const blob = path.join(layout, 'blobs/sha256', built.layers[0].digest.slice(7));
    const b = readFileSync(blob);
    b[b.length - 10] ^= 0xff;
    writeFileSync(blob, b);
    const store = new ImageStore(path.join(tmp, 'store-corrupt'));
    await expectTscError(store.load(archiveOf(layout)), 'IMAGE_DIGEST');
    expect(store.blobs.has(built.layers[0].digest)).toBe(false);
  });

  it('reports a missing file and a non-archive clearly', async () => {
    const store = new ImageStore(path.join(tmp, 'store-missing'));
    await expectTscError(store.load(path.join(tmp, 'nope.tar')), 'IMAGE_ARCHIVE', /does not exist/);
    const junk = path.join(tmp, 'junk.tar');
    writeFileSync(junk, 'this is not a tar archive'.repeat(40));
    await expectTscError(store.load(junk), 'IMAGE_ARCHIVE', /not a valid tar/);
  });
});

describe('root filesystems', () => {
  it('gives overlayfs each repeated layer once, and an image without layers an empty root', async () => {
    const layout = path.join(tmp, 'repeated');
    const same: Parameters<typeof writeOciImage>[1]['layers'][number] = [{ name: 'same.txt', type: 'file', data: 'same' }];
    const built = writeOciImage(layout, {
      ref: 'docker.io/tsc/repeated:1',
      layers: [
        busyboxEntries(),
        same,
        [
          { name: 'same.txt', type: 'file', data: 'changed' },
          { name: 'mid.txt', type: 'file', data: 'mid' },
        ],
        same,
      ],
    });
    const empty = writeOciImage(layout, { ref: 'docker.io/tsc/empty:1', layers: [] });
    const store = new ImageStore(path.join(tmp, 'store-repeated'));
    await store.load(archiveOf(layout));
    const { lowerDirs } = store.rootfs(built.configDigest);
    expect(lowerDirs).toEqual([store.layers.diffDir(built.diffIds[3]), store.layers.diffDir(built.diffIds[2]), store.layers.diffDir(built.diffIds[0])]);
    const base = path.join(tmp, 'mnt-repeated');
    for (const d of ['upper', 'work', 'merged']) mkdirSync(path.join(base, d), { recursive: true });
    execFileSync('mount', [
      '-t',
      'overlay',
      'tsc-img-test',
      '-o',
      `lowerdir=${lowerDirs.join(':')},upperdir=${base}/upper,workdir=${base}/work`,
      `${base}/merged`,
    ]);
    try {
      expect(readFileSync(path.join(base, 'merged/same.txt'), 'utf8')).toBe('same');
      expect(readFileSync(path.join(base, 'merged/mid.txt'), 'utf8')).toBe('mid');
    } finally {
      execFileSync('umount', [`${base}/merged`]);
    }
    const root = store.rootfs(empty.configDigest).lowerDirs;
    expect(root).toHaveLength(1);
    expect(readdirSync(root[0])).toEqual([]);
  });
});

describe('image removal', () => {
  it('untags, refuses images in use, and deletes only layers no other image uses', async () => {
    const layout = path.join(tmp, 'shared');
    const base = busyboxEntries();
    const a = writeOciImage(layout, { ref: 'docker.io/tsc/base:1', layers: [base] });
    const b = writeOciImage(layout, { ref: 'docker.io/tsc/plus:1', layers: [base, [{ name: 'plus.txt', type: 'file', data: 'plus' }]] });
    const inUse = new Set<string>();
    const store = new ImageStore(path.join(tmp, 'store-rm'), { isInUse: (id) => inUse.has(id) });
    const recs = await store.load(archiveOf(layout));
    expect(recs.map((r) => r.id)).toEqual([a.configDigest, b.configDigest]);
    expect(store.layers.list()).toHaveLength(2);
    const baseDir = store.layers.diffDir(a.diffIds[0]);
    const plusDir = store.layers.diffDir(b.diffIds[1]);

    // a second tag for the same image: removing one tag only untags
    const alias = path.join(tmp, 'shared-alias');
    writeOciImage(alias, { ref: 'docker.io/tsc/base:alias', layers: [base] });
    const [aliased] = await store.load(archiveOf(alias));
    expect(aliased.id).toBe(a.configDigest);
    expect(aliased.repoTags).toEqual(['docker.io/tsc/base:1', 'docker.io/tsc/base:alias']);
    await expectTscError(store.remove(a.configDigest), 'IMAGE_IN_USE', /referenced by 2 tags/);
    expect(await store.remove('tsc/base:alias')).toEqual({ untagged: ['docker.io/tsc/base:alias'], deleted: [] });
    expect(store.list()).toHaveLength(2);

    inUse.add(b.configDigest);
    await expectTscError(store.remove('tsc/plus:1'), 'IMAGE_IN_USE', /used by a container/);
    await expectTscError(store.remove('tsc/base:1', { inUse: [a.configDigest] }), 'IMAGE_IN_USE');
    inUse.clear();

    const r1 = await store.remove('tsc/plus:1');
    expect(r1).toEqual({ untagged: ['docker.io/tsc/plus:1'], deleted: [b.configDigest] });
    expect(existsSync(plusDir)).toBe(false);
    expect(existsSync(baseDir)).toBe(true);
    expect(store.blobs.has(b.layers[1].digest)).toBe(false);
    expect(store.blobs.has(a.layers[0].digest)).toBe(true);
    expect(store.rootfs(a.configDigest).lowerDirs).toEqual([baseDir]);

    await expectTscError(store.remove('tsc/plus:1'), 'IMAGE_NOT_FOUND', /no such image/);
    const r2 = await store.remove(a.configDigest.slice(7, 19));
    expect(r2.deleted).toEqual([a.configDigest]);
    expect(store.layers.list()).toEqual([]);
    expect(store.blobs.list()).toEqual([]);
    expect(store.list()).toEqual([]);
  });

  it('prune removes untagged images, and with all every unused one', async () => {
    const layout1 = path.join(tmp, 'prune1');
    const layout2 = path.join(tmp, 'prune2');
    const one = writeOciImage(layout1, { ref: 'docker.io/tsc/p:1', layers: [[{ name: 'a', type: 'file', data: '1' }]] });
    const two = writeOciImage(layout2, { ref: 'docker.io/tsc/p:1', layers: [[{ name: 'a', type: 'file', data: '2' }]] });
    const keep = writeOciImage(path.join(tmp, 'prune3'), { ref: 'docker.io/tsc/keep:1', layers: [[{ name: 'k', type: 'file', data: 'k' }]] });
    const store = new ImageStore(path.join(tmp, 'store-prune'));
    await store.load(archiveOf(layout1));
    await store.load(archiveOf(layout2)); // the tag moves: the first image is now dangling
    await store.load(archiveOf(path.join(tmp, 'prune3')));
    expect(store.get(one.configDigest)?.repoTags).toEqual([]);
    const r = await store.prune();
    expect(r.deleted).toEqual([one.configDigest]);
    expect(store.layers.has(one.diffIds[0])).toBe(false);
    const r2 = await store.prune({ all: true, inUse: [keep.configDigest] });
    expect(r2.deleted).toEqual([two.configDigest]);
    expect(store.list().map((x) => x.id)).toEqual([keep.configDigest]);

    // content no image names (left by an interrupted pull) goes once it is old enough to be
    // no running pull's, and dead processes' temporary files go at once
    const oldBlob = Buffer.from('orphan, old');
    const newBlob = Buffer.from('orphan, new');
    const oldDigest = `sha256:${createHash('sha256').update(oldBlob).digest('hex')}`;
    const newDigest = `sha256:${createHash('sha256').update(newBlob).digest('hex')}`;
    await store.blobs.writeBuffer(oldDigest, oldBlob, 'test blob');
    await store.blobs.writeBuffer(newDigest, newBlob, 'test blob');
    const past = new Date(Date.now() - 3600_000);
    utimesSync(store.blobs.path(oldDigest), past, past);
    writeFileSync(path.join(store.blobs.tmpDir, `${'e'.repeat(64)}.999999999.abcd`), 'partial of a dead process');
    await store.prune();
    expect(store.blobs.has(oldDigest)).toBe(false);
    expect(store.blobs.has(newDigest)).toBe(true);
    expect(store.blobs.has(keep.configDigest)).toBe(true);
    expect(readdirSync(store.blobs.tmpDir)).toEqual([]);
  });
});
