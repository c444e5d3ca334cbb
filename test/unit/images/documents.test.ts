import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { TscError } from '../../../src/common/errors.js';
import { MEDIA, parseConfig, parseDockerSaveManifest, parseImageIndex, parseManifest, parseOciLayout, type Fail } from '../../../src/images/documents.js';
import { ImageIndex } from '../../../src/images/image-index.js';
import { ImageStore } from '../../../src/images/index.js';
import { lockFileSync } from '../../../src/sys/files.js';

const D = (c: string): string => `sha256:${c.repeat(64)}`;
const fail =
  (code: 'IMAGE_REGISTRY' | 'IMAGE_ARCHIVE', doc: string): Fail =>
  (why, o) =>
    new TscError(code, `${doc} ${why}`, o);
const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

function thrown(fn: () => unknown): TscError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TscError);
    return e as TscError;
  }
  throw new Error('expected a TscError');
}

const manifest = {
  schemaVersion: 2,
  mediaType: MEDIA.ociManifest,
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: D('a'), size: 10 },
  layers: [
    { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: D('b'), size: 20 },
    { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: D('c'), size: 30 },
  ],
};

describe('manifests and indexes', () => {
  it('reads an image manifest and an index, keeping fields it does not know', () => {
    const m = parseManifest(json({ ...manifest, annotations: { a: 'b' } }), fail('IMAGE_REGISTRY', 'manifest'));
    expect(m).toMatchObject({ kind: 'image', mediaType: MEDIA.ociManifest, config: { digest: D('a') } });
    expect(m.kind === 'image' && m.layers.map((l) => l.size)).toEqual([20, 30]);
    const list = {
      schemaVersion: 2,
      mediaType: MEDIA.dockerList,
      manifests: [{ digest: D('d'), size: 5, platform: { os: 'linux', architecture: 'amd64', 'os.version': 'x' } }],
    };
    expect(parseManifest(json(list), fail('IMAGE_REGISTRY', 'manifest'))).toMatchObject({ kind: 'index', manifests: [{ digest: D('d') }] });
    // no media type in the document: the registry's Content-Type, then the shape decides
    const { mediaType: _, ...bare } = list;
    expect(parseManifest(json(bare), fail('IMAGE_REGISTRY', 'manifest')).kind).toBe('index');
    const { mediaType: __, ...bareImage } = manifest;
    expect(parseManifest(json(bareImage), fail('IMAGE_REGISTRY', 'manifest'), MEDIA.dockerManifest)).toMatchObject({
      kind: 'image',
      mediaType: MEDIA.dockerManifest,
    });
  });

  it("names the document and the field of a malformed manifest, with the caller's code", () => {
    const f = fail('IMAGE_REGISTRY', 'manifest of docker.io/library/x:1');
    let e = thrown(() => parseManifest(Buffer.from('{"schemaVersion": 2,'), f));
    expect(e.code).toBe('IMAGE_REGISTRY');
    expect(e.message).toBe('manifest of docker.io/library/x:1 is not JSON');
    e = thrown(() => parseManifest(json({ ...manifest, layers: [manifest.layers[0], { ...manifest.layers[1], size: '30' }] }), f));
    expect(e.message).toMatch(
      /^manifest of docker\.io\/library\/x:1 is malformed: field "layers\[1\]\.size": invalid input: expected number, received string$/,
    );
    e = thrown(() => parseManifest(json({ ...manifest, config: { digest: 7, size: 1 } }), f));
    expect(e.message).toMatch(/field "config\.digest"/);
    e = thrown(() => parseManifest(json({ schemaVersion: 2, mediaType: MEDIA.ociManifest }), f));
    expect(e.message).toMatch(/has no config or layers \(media type "application\/vnd\.oci\.image\.manifest\.v1\+json"\)$/);
    e = thrown(() => parseManifest(json([manifest]), f));
    expect(e.message).toMatch(/is malformed: invalid input: expected object, received array$/);
    e = thrown(() => parseManifest(json({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests: [{ digest: D('d') }] }), fail('IMAGE_ARCHIVE', 'index')));
    expect(e.code).toBe('IMAGE_ARCHIVE');
    expect(e.message).toMatch(/^index is malformed: field "manifests\[0\]\.size"/);
    e = thrown(() => parseManifest(json({ schemaVersion: 1, name: 'x', fsLayers: [] }), f));
    expect(e.message).toMatch(/deprecated Docker schema 1/);
    expect(e.hint).toMatch(/push the image again/);
  });

  it("checks an OCI layout's index.json and oci-layout", () => {
    expect(parseImageIndex(json({ schemaVersion: 2, manifests: [] }), fail('IMAGE_ARCHIVE', 'index.json'))).toEqual([]);
    expect(thrown(() => parseImageIndex(json({ schemaVersion: 2 }), fail('IMAGE_ARCHIVE', 'index.json'))).message).toMatch(/field "manifests"/);
    expect(parseOciLayout(json({ imageLayoutVersion: '1.0.0' }), fail('IMAGE_ARCHIVE', 'oci-layout'))).toEqual({ imageLayoutVersion: '1.0.0' });
    const e = thrown(() => parseOciLayout(json({ imageLayoutVersion: 1 }), fail('IMAGE_ARCHIVE', 'oci-layout')));
    expect([e.code, e.message]).toEqual([
      'IMAGE_ARCHIVE',
      'oci-layout is malformed: field "imageLayoutVersion": invalid input: expected string, received number',
    ]);
  });
});

describe('image configs', () => {
  const good = {
    architecture: 'amd64',
    os: 'linux',
    config: { Cmd: ['sh'], Env: null, WorkingDir: null, Labels: { a: 'b' }, OnBuild: null, Healthcheck: { Test: ['CMD', 'true'], Interval: 1e9 } },
    rootfs: { type: 'layers', diff_ids: [D('e')] },
    history: [{ created_by: 'x' }],
  };

  it('reads a config, dropping nulls Docker writes for absent fields and keeping the rest', () => {
    const cfg = parseConfig(json(good), 'img', fail('IMAGE_ARCHIVE', 'the config of img'));
    expect(cfg.rootfs.diff_ids).toEqual([D('e')]);
    expect(cfg.config).toMatchObject({ Cmd: ['sh'], Env: null, Labels: { a: 'b' }, OnBuild: null, Healthcheck: { Interval: 1e9 } });
    expect(cfg.config?.WorkingDir).toBeUndefined();
  });

  it('names the field of a malformed config; a bad diff_id is a digest error', () => {
    const f = fail('IMAGE_REGISTRY', 'the config of img');
    expect(thrown(() => parseConfig(json({ ...good, rootfs: {} }), 'img', f)).message).toBe('the config of img lists no rootfs.diff_ids');
    expect(thrown(() => parseConfig(json(null), 'img', f)).message).toBe('the config of img lists no rootfs.diff_ids');
    let e = thrown(() => parseConfig(json({ ...good, config: { Cmd: 'sh -c true' } }), 'img', f));
    expect([e.code, e.message]).toEqual([
      'IMAGE_REGISTRY',
      'the config of img is malformed: field "config.Cmd": invalid input: expected array, received string',
    ]);
    e = thrown(() => parseConfig(json({ ...good, config: { Env: ['A=1', 2] } }), 'img', f));
    expect(e.message).toMatch(/field "config\.Env\[1\]"/);
    e = thrown(() => parseConfig(json({ ...good, rootfs: { diff_ids: ['md5:abc'] } }), 'img', f));
    expect(e.code).toBe('IMAGE_DIGEST');
  });
});

describe('docker save manifest.json', () => {
  const f = fail('IMAGE_ARCHIVE', 'manifest.json');
  it('reads the entries and says which one is malformed', () => {
    expect(parseDockerSaveManifest(json([{ Config: 'c.json', RepoTags: null, Layers: ['l/layer.tar'] }]), f)).toEqual([
      { Config: 'c.json', RepoTags: null, Layers: ['l/layer.tar'] },
    ]);
    expect(thrown(() => parseDockerSaveManifest(json([]), f)).message).toBe('manifest.json lists no images');
    expect(thrown(() => parseDockerSaveManifest(json({ Config: 'c' }), f)).message).toBe('manifest.json lists no images');
    expect(thrown(() => parseDockerSaveManifest(json([{ Config: 'c', Layers: [] }, { Config: 'd' }]), f)).message).toBe(
      'manifest.json entry 2 lacks Config or Layers',
    );
    const e = thrown(() => parseDockerSaveManifest(json([{ Config: 'c', Layers: ['a', 3] }]), f));
    expect(e.message).toBe('manifest.json is malformed: field "[0].Layers[1]": invalid input: expected string, received number');
    expect(thrown(() => parseDockerSaveManifest(json([{ Config: 'c', Layers: [], RepoTags: 'x:1' }]), f)).message).toMatch(/field "\[0\]\.RepoTags"/);
  });
});

describe('the image index on disk', () => {
  function withRoot(fn: (root: string) => void): void {
    const root = mkdtempSync(path.join(os.tmpdir(), 'tsc-image-index-'));
    try {
      fn(root);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
  const image = {
    id: D('1'),
    repoDigests: [],
    diffIds: [D('2')],
    os: 'linux',
    architecture: 'amd64',
    size: 3,
    config: { Cmd: ['sh'] },
    layerBlobs: [D('3')],
    manifestBlobs: [],
  };

  it('is STATE_CORRUPT naming the file and the field, never a TypeError later', () => {
    withRoot((root) => {
      const store = new ImageStore(root);
      const file = path.join(root, 'index.json');
      const corrupt = (v: unknown): TscError => {
        writeFileSync(file, typeof v === 'string' ? v : JSON.stringify(v));
        const e = thrown(() => store.list());
        expect(e.code).toBe('STATE_CORRUPT');
        expect(e.message.startsWith(`image index ${file} `)).toBe(true);
        return e;
      };
      expect(corrupt('{"version":1,').message).toMatch(/is not JSON$/);
      expect(corrupt({ version: 2, images: {}, refs: {} }).message).toMatch(/field "version"/);
      expect(corrupt({ version: 1, images: { [D('1')]: { ...image, diffIds: 'x' } }, refs: {} }).message).toMatch(
        new RegExp(`field "images\\.${D('1')}\\.diffIds"`),
      );
      expect(corrupt({ version: 1, images: {}, refs: { 'docker.io/library/x:1': D('9') } }).message).toMatch(
        /field "refs\.docker\.io\/library\/x:1": names image sha256:9+, which the index does not hold/,
      );
      writeFileSync(file, JSON.stringify({ version: 1, images: { [D('1')]: image }, refs: { 'docker.io/library/x:1': D('1') } }));
      expect(store.list().map((r) => [r.id, r.repoTags])).toEqual([[D('1'), ['docker.io/library/x:1']]]);
    });
  });

  it("waits for another process's lock and names it when it gives up", () => {
    withRoot((root) => {
      const index = new ImageIndex(root, { lockTimeoutMs: 50 });
      const other = lockFileSync(index.lockPath, { what: 'the image index', command: 'tscompose image pull busybox' });
      try {
        const e = thrown(() => index.update(() => undefined));
        expect(e.code).toBe('STATE_LOCKED');
        expect(e.message).toMatch(/the image index/);
        expect(e.message).toContain(`pid ${process.pid} (tscompose image pull busybox)`);
      } finally {
        other.release();
      }
      expect(index.update((idx) => Object.keys(idx.images).length)).toBe(0);
    });
  });
});

describe('prune after a crash during an index write', () => {
  it('removes the temporary index files of processes that are gone, and only those', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'tsc-image-index-tmp-'));
    try {
      const dead = path.join(root, '.index.json.99999999.0a1b2c3d.tmp');
      const mine = path.join(root, `.index.json.${process.pid}.0a1b2c3d.tmp`);
      const other = path.join(root, 'index.json.bak');
      for (const f of [dead, mine, other]) writeFileSync(f, '{');
      await new ImageStore(root).prune();
      const left = readdirSync(root).filter((n) => n !== 'index.json' && n !== 'index.lock');
      expect(left.sort()).toEqual([path.basename(mine), path.basename(other)].sort());
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
