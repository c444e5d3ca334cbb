/**
 * `image tag` and `image save`: a tag removed while another names the image only untags; a saved
 * archive loads back with the same image id here, is a docker-archive skopeo reads, and an OCI
 * image layout umoci unpacks to the same files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { ImageStore } from '../../../src/images/index.js';
import { TscError } from '../../../src/common/errors.js';
import { archiveOf, buildThreeLayer } from '../../support/images.js';

const execFileP = promisify(execFile);
let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'tsc-images-save-'));
  buildThreeLayer(path.join(tmp, 'three'));
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function save(store: ImageStore, refs: string[], file: string): Promise<void> {
  await store.save(refs, createWriteStream(file));
}

describe('image tag and save', () => {
  it('tags an image; removing one of two tags only untags', async () => {
    const store = new ImageStore(path.join(tmp, 'store-tag'));
    const [rec] = await store.load(archiveOf(path.join(tmp, 'three')));
    expect(store.tag(rec.repoTags[0], 'registry.example:5000/team/three')).toBe('registry.example:5000/team/three:latest');
    expect(store.get('registry.example:5000/team/three')?.id).toBe(rec.id);
    const r = await store.remove('registry.example:5000/team/three:latest');
    expect(r).toEqual({ untagged: ['registry.example:5000/team/three:latest'], deleted: [] });
    expect(store.get(rec.id)?.repoTags).toEqual(rec.repoTags);
    const err = (() => {
      try {
        store.tag('nosuch:image', 'x:y');
      } catch (e) {
        return e;
      }
    })();
    expect((err as TscError).code).toBe('IMAGE_NOT_FOUND');
    expect(() => store.tag(rec.id, `x@sha256:${'a'.repeat(64)}`)).toThrow(/not by digest/);
  });

  it('saves a docker-archive that loads back with the same id, that skopeo reads and umoci unpacks', async () => {
    const store = new ImageStore(path.join(tmp, 'store-save'));
    const [rec] = await store.load(archiveOf(path.join(tmp, 'three')));
    store.tag(rec.id, 'tsc/saved:v1');
    const file = path.join(tmp, 'saved.tar');
    await save(store, ['tsc/saved:v1', rec.repoTags[0]], file);

    const manifest = JSON.parse((await execFileP('tar', ['xOf', file, 'manifest.json'])).stdout);
    expect(manifest).toHaveLength(1);
    expect(manifest[0].Config).toBe(`blobs/sha256/${rec.id.slice(7)}`);
    expect(manifest[0].RepoTags).toEqual(['tsc/saved:v1', 'layered:latest']);
    expect(manifest[0].Layers).toEqual(rec.diffIds.map((d) => `blobs/sha256/${d.slice(7)}`));

    const other = new ImageStore(path.join(tmp, 'store-reload'));
    const [back] = await other.load(file);
    expect(back.id).toBe(rec.id);
    expect(back.repoTags.sort()).toEqual(['docker.io/library/layered:latest', 'docker.io/tsc/saved:v1']);

    // same bytes when saved again
    await save(store, ['tsc/saved:v1', rec.repoTags[0]], `${file}.2`);
    expect(readFileSync(`${file}.2`).equals(readFileSync(file))).toBe(true);

    const inspect = JSON.parse((await execFileP('skopeo', ['inspect', `docker-archive:${file}:tsc/saved:v1`])).stdout);
    expect(inspect.Layers).toEqual(rec.diffIds);

    // the archive is an OCI image layout too: umoci unpacks it to the files the store holds
    const layout = path.join(tmp, 'saved-layout');
    mkdirSync(layout);
    await execFileP('tar', ['xf', file, '-C', layout]);
    const bundle = path.join(tmp, 'bundle');
    await execFileP('umoci', ['unpack', '--image', `${layout}:v1`, bundle]);
    expect(readFileSync(path.join(bundle, 'rootfs/data/new.txt'), 'utf8')).toBe('new\n');
    expect(readFileSync(path.join(bundle, 'rootfs/bin/busybox')).equals(readFileSync('/bin/busybox'))).toBe(true);
  });

  it('names a missing image', async () => {
    const store = new ImageStore(path.join(tmp, 'store-missing'));
    const err = await save(store, ['nosuch:1'], path.join(tmp, 'none.tar')).catch((e: unknown) => e);
    expect((err as TscError).code).toBe('IMAGE_NOT_FOUND');
  });
});
