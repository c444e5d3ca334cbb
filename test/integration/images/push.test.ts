/**
 * `image push` against a real registry (docker-registry) through a recording proxy: the image
 * comes back with the same id, skopeo and umoci read it, a second push uploads nothing, a second
 * repository mounts the blobs, large blobs go up in chunks, bearer and basic auth, clear errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { ImageStore } from '../../../src/images/index.js';
import { TscError } from '../../../src/common/errors.js';
import { archiveOf, buildThreeLayer } from '../../support/images.js';
import { freePort, startAuthProxy, startRegistry, type AuthProxy, type RecordedRequest, type TestRegistry } from '../../support/registry.js';

const execFileP = promisify(execFile);
let tmp: string;
let reg: TestRegistry;
let proxy: AuthProxy;
/** the three-layer fixture saved as a docker-archive: layers uncompressed, no manifest kept */
let dockerArchive: string;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'tsc-images-push-'));
  buildThreeLayer(path.join(tmp, 'three'), 'docker.io/tsc/three:v1');
  const seed = new ImageStore(path.join(tmp, 'seed'));
  await seed.load(archiveOf(path.join(tmp, 'three')));
  dockerArchive = path.join(tmp, 'three-docker.tar');
  await seed.save(['tsc/three:v1'], createWriteStream(dockerArchive));
  reg = await startRegistry();
  proxy = await startAuthProxy(reg.port, 'none');
});

afterAll(async () => {
  await proxy?.close();
  await reg?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const blobWrites = (rs: RecordedRequest[]): RecordedRequest[] => rs.filter((r) => r.path.includes('/blobs/uploads/') && r.method !== 'HEAD');

async function expectTscError(p: Promise<unknown>, code: string, re?: RegExp): Promise<TscError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!(e instanceof TscError)) throw new Error(`expected a ${code} TscError, got ${String(e)}`);
  expect(e.code).toBe(code);
  if (re) expect(e.message).toMatch(re);
  return e;
}

describe('image push', () => {
  it('pushes (chunked), pulls back the same id, skopeo and umoci read it; a second push uploads nothing; a second repo mounts', async () => {
    const store = new ImageStore(path.join(tmp, 'store'));
    const [rec] = await store.load(dockerArchive);
    const ref = `${proxy.host}/team/three:v1`;
    store.tag(rec.id, ref);

    proxy.requests.length = 0;
    const events: string[] = [];
    const first = await store.push(ref, { chunkSize: 64 * 1024, onProgress: (ev) => events.push(ev.kind) });
    expect(first).toMatchObject({ uploaded: 4, mounted: 0, existing: 0 });
    expect(events.at(-1)).toBe('done');
    expect(events).toContain('upload-progress');
    // the busybox layer is over 64 KiB: PATCH chunks with Content-Range, then the closing PUT
    const patches = proxy.requests.filter((r) => r.method === 'PATCH');
    expect(patches.length).toBeGreaterThan(2);
    expect(patches.every((r) => r.status === 202 && /^\d+-\d+$/.test(String(r.headers['content-range'])))).toBe(true);
    const manifestPuts = proxy.requests.filter((r) => r.method === 'PUT' && r.path.includes('/manifests/'));
    expect(manifestPuts).toHaveLength(1);
    // the manifest goes up after every blob
    expect(proxy.requests.at(-1)).toBe(manifestPuts[0]);

    // removed and pulled back: the same image id
    expect((await store.remove(rec.id, { force: true })).deleted).toEqual([rec.id]);
    const back = await store.pull(ref);
    expect(back.id).toBe(rec.id);
    expect(back.repoDigests).toEqual([`${proxy.host}/team/three@${first.digest}`]);

    // skopeo reads it, and umoci unpacks the same files the store holds
    const inspect = JSON.parse((await execFileP('skopeo', ['inspect', '--tls-verify=false', `docker://${reg.host}/team/three:v1`])).stdout);
    expect(inspect.Digest).toBe(first.digest);
    const layout = path.join(tmp, 'oci');
    await execFileP('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${reg.host}/team/three:v1`, `oci:${layout}:x`]);
    const bundle = path.join(tmp, 'bundle');
    await execFileP('umoci', ['unpack', '--image', `${layout}:x`, bundle]);
    const top = store.rootfs(back.id).lowerDirs[0];
    expect(readFileSync(path.join(bundle, 'rootfs/data/new.txt'), 'utf8')).toBe(readFileSync(path.join(top, 'data/new.txt'), 'utf8'));
    expect(readFileSync(path.join(bundle, 'rootfs/bin/busybox')).equals(readFileSync('/bin/busybox'))).toBe(true);

    // pushed again: every blob is found by HEAD, only the manifest is sent
    proxy.requests.length = 0;
    const again = await store.push(ref);
    expect(again).toMatchObject({ digest: first.digest, uploaded: 0, mounted: 0, existing: 4 });
    expect(blobWrites(proxy.requests)).toEqual([]);
    expect(proxy.requests.filter((r) => r.method === 'HEAD')).toHaveLength(4);

    // to a second repository of the same registry: mounted from the first, nothing uploaded
    const other = `${proxy.host}/other/three:v2`;
    store.tag(rec.id, other);
    proxy.requests.length = 0;
    const mounted = await store.push(other);
    expect(mounted).toMatchObject({ digest: first.digest, uploaded: 0, mounted: 4 });
    const posts = blobWrites(proxy.requests);
    expect(posts.every((r) => r.method === 'POST' && r.query.includes('from=team%2Fthree') && r.status === 201)).toBe(true);
  });

  it('keeps a pulled manifest: pushing a pulled image sends the same manifest digest', async () => {
    await reg.pushOci(path.join(tmp, 'three'), 'v1', 'src/three:1');
    const store = new ImageStore(path.join(tmp, 'store-pulled'));
    const rec = await store.pull(`${proxy.host}/src/three:1`);
    store.tag(rec.id, `${proxy.host}/dst/three:1`);
    const r = await store.push(`${proxy.host}/dst/three:1`);
    expect(r.digest).toBe(rec.manifestDigest);
    expect(r.mounted).toBe(4);
  });

  it('authenticates with a bearer token (push scope) or basic auth, and says when it is refused', async () => {
    const cfg = (name: string, host: string, user: string, pw: string): NodeJS.ProcessEnv => {
      const dir = path.join(tmp, name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${user}:${pw}`).toString('base64') } } }));
      return { DOCKER_CONFIG: dir, HOME: tmp };
    };
    for (const mode of ['bearer', 'basic'] as const) {
      const auth = await startAuthProxy(reg.port, mode, 'alice', 's3cret');
      try {
        const store = new ImageStore(path.join(tmp, `store-${mode}`), { env: cfg(`cfg-${mode}`, auth.host, 'alice', 's3cret') });
        const [rec] = await store.load(dockerArchive);
        store.tag(rec.id, `${auth.host}/priv/three:1`);
        expect((await store.push(`${auth.host}/priv/three:1`)).uploaded + (await store.push(`${auth.host}/priv/three:1`)).existing).toBeGreaterThan(0);
        if (mode === 'bearer') expect(auth.tokenScopes[0]).toEqual(['repository:priv/three:pull,push']);

        const wrong = new ImageStore(path.join(tmp, `store-${mode}`), { env: cfg(`cfg-${mode}-wrong`, auth.host, 'alice', 'nope') });
        const err = await expectTscError(wrong.push(`${auth.host}/priv/three:1`), 'IMAGE_AUTH', /push/);
        expect(err.hint).toMatch(/config\.json/);
      } finally {
        await auth.close();
      }
    }
  });

  it('names a missing tag, a digest reference and an unreachable registry', async () => {
    const store = new ImageStore(path.join(tmp, 'store-err'));
    const [rec] = await store.load(dockerArchive);
    await expectTscError(store.push(`${proxy.host}/nope/x:1`), 'IMAGE_NOT_FOUND', /does not exist locally/);
    await expectTscError(store.push(`${proxy.host}/x@sha256:${'a'.repeat(64)}`), 'USAGE');
    const dead = `127.0.0.1:${await freePort()}/x/three:1`;
    store.tag(rec.id, dead);
    await expectTscError(store.push(dead), 'IMAGE_REGISTRY', /cannot reach registry/);
  });
});
