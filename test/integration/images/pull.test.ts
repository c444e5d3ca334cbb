/**
 * Pull from a real registry (Debian's docker-registry on 127.0.0.1), then mount the image's
 * layers with overlayfs as the engine does and check what a container would see.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
  openSync,
  readSync,
  writeSync,
  closeSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ImageStore, type PullEvent } from '../../../src/images/index.js';
import { lgetxattr } from '../../../src/images/sys.js';
import { TscError } from '../../../src/common/errors.js';
import { distEntry } from '../../../src/common/paths.js';
import { startRegistry, startSlowProxy, freePort, type TestRegistry } from '../../support/registry.js';
import { archiveOf, buildOneLayer, buildThreeLayer, busyboxEntries, writeOciImage, writeMultiPlatform, LAYOUT_TAG } from '../../support/images.js';
import { hostPlatform } from '../../../src/images/platform.js';

let reg: TestRegistry;
let tmp: string;
const mounts: string[] = [];

function mountOverlay(lowerDirs: string[], base: string): string {
  const upper = path.join(base, 'upper');
  const work = path.join(base, 'work');
  const merged = path.join(base, 'merged');
  for (const d of [upper, work, merged]) mkdirSync(d, { recursive: true });
  execFileSync('mount', ['-t', 'overlay', 'tsc-img-test', '-o', `lowerdir=${lowerDirs.join(':')},upperdir=${upper},workdir=${work}`, merged]);
  mounts.push(merged);
  return merged;
}

function umountAll(): void {
  while (mounts.length) {
    const m = mounts.pop()!;
    try {
      execFileSync('umount', [m]);
    } catch {
      execFileSync('umount', ['-l', m]);
    }
  }
}

async function expectTscError(p: Promise<unknown>, code: string, re?: RegExp): Promise<TscError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(TscError);
    expect((e as TscError).code).toBe(code);
    if (re) expect((e as TscError).message).toMatch(re);
    return e as TscError;
  }
  throw new Error(`expected a ${code} error`);
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'tsc-images-pull-'));
  reg = await startRegistry();
  buildOneLayer(path.join(tmp, 'one'));
  buildThreeLayer(path.join(tmp, 'three'));
  await reg.pushOci(path.join(tmp, 'one'), LAYOUT_TAG, 'library/busybox:latest');
  await reg.pushOci(path.join(tmp, 'three'), LAYOUT_TAG, 'tsc/layered:v1');
});

afterAll(async () => {
  umountAll();
  await reg?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('pull from a registry', () => {
  it('pulls a one-layer image by tag and exposes its layer as a lowerdir', async () => {
    const store = new ImageStore(path.join(tmp, 'store-one'));
    const events: PullEvent[] = [];
    const rec = await store.pull(`${reg.host}/library/busybox`, { onProgress: (e) => events.push(e) });
    expect(rec.repoTags).toEqual([`${reg.host}/library/busybox:latest`]);
    expect(rec.repoDigests[0]).toMatch(new RegExp(`^${reg.host}/library/busybox@sha256:[a-f0-9]{64}$`));
    expect(rec.config.Cmd).toEqual(['sh']);
    expect(rec.diffIds).toHaveLength(1);
    const { lowerDirs } = store.rootfs(rec.id);
    expect(lowerDirs).toHaveLength(1);
    expect(readFileSync(path.join(lowerDirs[0], 'bin/busybox')).equals(readFileSync('/bin/busybox'))).toBe(true);
    expect(lstatSync(path.join(lowerDirs[0], 'bin/sh')).isSymbolicLink()).toBe(true);
    expect(readFileSync(path.join(lowerDirs[0], 'etc/passwd'), 'utf8')).toMatch(/^nobody:/m);
    expect(statSync(path.join(lowerDirs[0], 'tmp')).mode & 0o7777).toBe(0o1777);
    // byte progress was reported for the layer
    const progress = events.filter((e) => e.kind === 'download-progress');
    expect(progress.length).toBeGreaterThan(0);
    const last = progress[progress.length - 1] as Extract<PullEvent, { kind: 'download-progress' }>;
    expect(last.current).toBe(last.total);
    expect(store.get(rec.id)?.id).toBe(rec.id);
    expect(store.get(rec.id.slice(7, 19))?.id).toBe(rec.id);
    expect(store.list().map((r) => r.id)).toEqual([rec.id]);

    // pulling again downloads nothing
    const again: PullEvent[] = [];
    await store.pull(`${reg.host}/library/busybox:latest`, { onProgress: (e) => again.push(e) });
    expect(again.some((e) => e.kind === 'download-start')).toBe(false);
    expect(again.find((e) => e.kind === 'done')).toMatchObject({ downloaded: false });

    // and by digest
    const digest = rec.repoDigests[0].split('@')[1];
    const byDigest = await store.pull(`${reg.host}/library/busybox@${digest}`);
    expect(byDigest.id).toBe(rec.id);
    // present by digest: no registry request at all (an aborted signal would fail any)
    const offline = new ImageStore(store.root);
    expect((await offline.pull(`${reg.host}/library/busybox@${digest}`, { signal: AbortSignal.abort() })).id).toBe(rec.id);
    expect(store.get(`${reg.host}/library/busybox@${digest}`)?.id).toBe(rec.id);
  });

  it('fetches a layer again when another process removes it while a pull reuses it', async () => {
    const root = path.join(tmp, 'store-race');
    const store = new ImageStore(root);
    const other = new ImageStore(root); // as a second tscompose process would see the store
    const loaded = await store.load(archiveOf(path.join(tmp, 'one'), path.join(tmp, 'race-one.tar')));
    let removed = false;
    const events: PullEvent[] = [];
    const rec = await store.pull(`${reg.host}/library/busybox:latest`, {
      onProgress: (e) => {
        events.push(e);
        if (e.kind === 'layer-present' && !removed) {
          removed = true;
          void other.remove(loaded[0].id); // its index update and layer removal run right now
        }
      },
    });
    expect(removed).toBe(true);
    expect(events.filter((e) => e.kind === 'download-done').length).toBeGreaterThan(0);
    expect(rec.repoTags).toEqual([`${reg.host}/library/busybox:latest`]);
    expect(existsSync(path.join(store.rootfs(rec.id).lowerDirs[0], 'bin/busybox'))).toBe(true);
  });

  it('pulls a three-layer image whose overlay root shows replaced, deleted and opaque entries', async () => {
    const store = new ImageStore(path.join(tmp, 'store-three'));
    const rec = await store.pull(`${reg.host}/tsc/layered:v1`);
    expect(rec.config.WorkingDir).toBe('/data');
    expect(rec.config.Labels).toEqual({ 'org.tsc.fixture': 'three' });
    const { lowerDirs } = store.rootfs(rec.id);
    expect(lowerDirs).toHaveLength(3);
    expect(lowerDirs[2]).toBe(store.layers.diffDir(rec.diffIds[0])); // top-most first
    // overlayfs whiteouts in the layer directories
    const mid = lowerDirs[1];
    const wh = lstatSync(path.join(mid, 'data/old.txt'));
    expect(wh.isCharacterDevice()).toBe(true);
    expect(wh.rdev).toBe(0);
    expect(lgetxattr(path.join(mid, 'opt/app'), 'trusted.overlay.opaque')?.toString()).toBe('y');
    expect(existsSync(path.join(mid, 'data/.wh.old.txt'))).toBe(false);

    const merged = mountOverlay(lowerDirs, path.join(tmp, 'mnt-three'));
    try {
      expect(readFileSync(path.join(merged, 'etc/motd'), 'utf8')).toBe('v2\n');
      expect(existsSync(path.join(merged, 'data/old.txt'))).toBe(false);
      expect(readFileSync(path.join(merged, 'data/keep.txt'), 'utf8')).toBe('keep\n');
      expect(readdirSync(path.join(merged, 'opt/app')).sort()).toEqual(['c.txt']);
      expect(existsSync(path.join(merged, 'bin/vi'))).toBe(false);
      expect(existsSync(path.join(merged, 'bin/sh'))).toBe(true);
      const st = statSync(path.join(merged, 'data/new.txt'));
      expect(st.mode & 0o7777).toBe(0o640);
      expect([st.uid, st.gid]).toEqual([1000, 2000]);
      expect(Math.floor(st.mtimeMs / 1000)).toBe(1600000000);
      expect(statSync(path.join(merged, 'data/hardlink')).ino).toBe(st.ino);
      expect(readFileSync(path.join(merged, 'data/symlink'), 'utf8')).toBe('new\n');
      expect(lstatSync(path.join(merged, 'data/fifo')).isFIFO()).toBe(true);
      expect(statSync(path.join(merged, 'data/setuid')).mode & 0o7777).toBe(0o4755);
      const dev = lstatSync(path.join(merged, 'dev/tsc-null'));
      expect(dev.isCharacterDevice()).toBe(true);
      expect(dev.rdev).toBe(0x103);
      expect(lgetxattr(path.join(merged, 'data/xattr.txt'), 'user.tsc')?.toString()).toBe('yes');
      expect(readFileSync(path.join(merged, `data/${'long-name-'.repeat(12)}.txt`), 'utf8')).toBe('long\n');
      // the image's own busybox runs in the merged root
      const out = execFileSync('chroot', [merged, '/bin/sh', '-c', 'cat /etc/motd; ls /opt/app; id -un'], { encoding: 'utf8' });
      expect(out).toBe('v2\nc.txt\nroot\n');
    } finally {
      umountAll();
    }
  });

  it('pulls Docker schema 2 manifests and picks the host platform from an image index', async () => {
    await reg.pushOci(path.join(tmp, 'one'), LAYOUT_TAG, 'tsc/docker-v2s2:latest', ['--format', 'v2s2']);
    const res = await fetch(`http://${reg.host}/v2/tsc/docker-v2s2/manifests/latest`, {
      headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
    });
    expect(res.headers.get('content-type')).toBe('application/vnd.docker.distribution.manifest.v2+json');
    const store = new ImageStore(path.join(tmp, 'store-platform'));
    const v2 = await store.pull(`${reg.host}/tsc/docker-v2s2`);
    expect(readFileSync(path.join(store.rootfs(v2.id).lowerDirs[0], 'etc/group'), 'utf8')).toMatch(/^root:/);

    const host = hostPlatform();
    const other = host.architecture === 'arm64' ? { architecture: 'amd64' } : { architecture: 'arm64', variant: 'v8' };
    const dir = path.join(tmp, 'multi');
    const multi = writeMultiPlatform(dir, 'docker.io/tsc/multi:latest', [
      { ...other, layers: [[{ name: 'which', type: 'file', data: 'other\n' }]] },
      { architecture: host.architecture, variant: host.variant, layers: [[{ name: 'which', type: 'file', data: 'host\n' }]] },
    ]);
    await reg.pushOci(dir, LAYOUT_TAG, 'tsc/multi:latest', ['--multi-arch', 'all']);
    const mine = await store.pull(`${reg.host}/tsc/multi:latest`);
    expect(mine.architecture).toBe(host.architecture);
    expect(mine.repoDigests).toEqual([`${reg.host}/tsc/multi@${multi.indexDigest}`]);
    expect(readFileSync(path.join(store.rootfs(mine.id).lowerDirs[0], 'which'), 'utf8')).toBe('host\n');
    const theirs = await store.pull(`${reg.host}/tsc/multi:latest`, { platform: `linux/${other.architecture}` });
    expect(theirs.architecture).toBe(other.architecture);
    expect(readFileSync(path.join(store.rootfs(theirs.id).lowerDirs[0], 'which'), 'utf8')).toBe('other\n');
    await expectTscError(store.pull(`${reg.host}/tsc/multi:latest`, { platform: 'linux/s390x' }), 'IMAGE_NOT_FOUND', /no variant for platform linux\/s390x/);
  });

  it('rejects a blob whose content does not match its digest and stores nothing of it', async () => {
    const dir = path.join(tmp, 'tampered');
    const built = writeOciImage(dir, {
      ref: 'docker.io/library/tampered:latest',
      layers: [[...busyboxEntries(), { name: 'etc/tampered', type: 'file', data: randomBytes(64 * 1024) }]],
    });
    await reg.pushOci(dir, LAYOUT_TAG, 'tsc/tampered:latest');
    const blob = reg.blobPath(built.layers[0].digest);
    const fd = openSync(blob, 'r+');
    try {
      const b = Buffer.alloc(1);
      readSync(fd, b, 0, 1, 600);
      writeSync(fd, Buffer.from([b[0] ^ 0xff]), 0, 1, 600);
    } finally {
      closeSync(fd);
    }
    const store = new ImageStore(path.join(tmp, 'store-tampered'));
    await expectTscError(store.pull(`${reg.host}/tsc/tampered:latest`), 'IMAGE_DIGEST', /does not match its digest/);
    expect(store.blobs.has(built.layers[0].digest)).toBe(false);
    expect(store.layers.has(built.diffIds[0])).toBe(false);
    expect(store.list()).toEqual([]);
    expect(readdirSync(store.blobs.tmpDir)).toEqual([]);
    expect(readdirSync(path.join(store.layers.dir, 'tmp'))).toEqual([]);
  });

  it('stops a pull whose layer escapes through a symlink, keeping neither blob nor layer', async () => {
    const dir = path.join(tmp, 'hostile');
    const outside = path.join(tmp, 'outside');
    mkdirSync(outside, { recursive: true });
    const built = writeOciImage(dir, {
      ref: 'docker.io/library/hostile:latest',
      layers: [
        [
          { name: 'esc', type: 'symlink', linkname: outside },
          { name: 'esc/pwned', type: 'file', data: 'x' },
          { name: 'pad', type: 'file', data: randomBytes(2 * 1024 * 1024) },
        ],
      ],
    });
    await reg.pushOci(dir, LAYOUT_TAG, 'tsc/hostile:latest');
    const store = new ImageStore(path.join(tmp, 'store-hostile'));
    await expectTscError(store.pull(`${reg.host}/tsc/hostile:latest`), 'IMAGE_UNSAFE', /passes through the symlink "esc"/);
    expect(readdirSync(outside)).toEqual([]);
    expect(store.blobs.has(built.layers[0].digest)).toBe(false);
    expect(store.layers.list()).toEqual([]);
    expect(readdirSync(store.blobs.tmpDir)).toEqual([]);
    expect(readdirSync(path.join(store.layers.dir, 'tmp'))).toEqual([]);
  });

  it('reports a full disk in one line, keeps the store consistent, and completes once there is room', async () => {
    const root = path.join(tmp, 'store-full');
    mkdirSync(root, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1200k', 'tsc-img-full', root]);
    mounts.push(root);
    try {
      const store = new ImageStore(root);
      const err = await expectTscError(store.pull(`${reg.host}/library/busybox:latest`), 'DISK_FULL', /no space left on device while/);
      expect(err.message).toContain(`${reg.host}/library/busybox:latest`);
      expect(store.list()).toEqual([]);
      expect(store.layers.list()).toEqual([]);
      expect(readdirSync(store.blobs.tmpDir)).toEqual([]);
      expect(readdirSync(path.join(store.layers.dir, 'tmp'))).toEqual([]);
      execFileSync('mount', ['-o', 'remount,size=16m', root]);
      const rec = await store.pull(`${reg.host}/library/busybox:latest`);
      expect(existsSync(path.join(store.rootfs(rec.id).lowerDirs[0], 'bin/busybox'))).toBe(true);
    } finally {
      umountAll();
    }
  });

  it('names the image and the cause for an unknown tag and an unreachable registry', async () => {
    const store = new ImageStore(path.join(tmp, 'store-errors'));
    await expectTscError(store.pull(`${reg.host}/library/busybox:nope`), 'IMAGE_NOT_FOUND', /busybox:nope/);
    await expectTscError(store.pull(`${reg.host}/tsc/missing`), 'IMAGE_NOT_FOUND', /tsc\/missing:latest/);
    const port = await freePort();
    await expectTscError(
      store.pull(`127.0.0.1:${port}/x/y:z`),
      'IMAGE_REGISTRY',
      /cannot reach registry 127\.0\.0\.1:\d+ for 127\.0\.0\.1:\d+\/x\/y:z: ECONNREFUSED/,
    );
  });

  it('stops a cancelled pull with one line naming the image, leaving nothing behind', async () => {
    const proxy = await startSlowProxy(reg.port, 256 * 1024);
    try {
      const store = new ImageStore(path.join(tmp, 'store-cancel'));
      const ref = `${proxy.host}/library/busybox:latest`;
      await expectTscError(store.pull(ref, { signal: AbortSignal.timeout(800) }), 'IMAGE_REGISTRY', new RegExp(`^pull of ${ref} timed out$`));
      const ctl = new AbortController();
      setTimeout(() => ctl.abort(), 800);
      await expectTscError(store.pull(ref, { signal: ctl.signal }), 'IMAGE_REGISTRY', new RegExp(`^pull of ${ref} was cancelled$`));
      expect(store.list()).toEqual([]);
      expect(store.layers.list()).toEqual([]);
      expect(readdirSync(path.join(store.layers.dir, 'tmp'))).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it('completes a pull after an earlier pull of the same image was killed', async () => {
    const dir = path.join(tmp, 'big');
    const payload = randomBytes(6 * 1024 * 1024);
    const built = writeOciImage(dir, {
      ref: 'docker.io/library/big:latest',
      layers: [busyboxEntries(), [{ name: 'big.bin', type: 'file', data: payload }]],
    });
    await reg.pushOci(dir, LAYOUT_TAG, 'tsc/big:latest');
    const proxy = await startSlowProxy(reg.port, 2 * 1024 * 1024);
    const root = path.join(tmp, 'store-killed');
    const ref = `${proxy.host}/tsc/big:latest`;
    try {
      const script = path.join(tmp, 'pull-child.mjs');
      writeFileSync(
        script,
        `import { ImageStore } from ${JSON.stringify(distEntry('images/index.js'))};\n` +
          `const s = new ImageStore(${JSON.stringify(root)});\n` +
          `await s.pull(${JSON.stringify(ref)}, { onProgress: (e) => { if (e.kind === 'download-progress') process.stdout.write(JSON.stringify(e) + '\\n'); } });\n`,
      );
      const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
      const exited = new Promise((r) => child.once('exit', r));
      let buf = '';
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d) => {
          buf += String(d);
          const big = buf
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l))
            .find((e) => e.digest === built.layers[1].digest && e.current > 1024 * 1024);
          if (big) resolve();
        });
        child.once('exit', (code) => reject(new Error(`pull finished (${code}) before it could be killed`)));
      });
      child.kill('SIGKILL');
      await exited;
      const partials = readdirSync(path.join(root, 'blobs/tmp'));
      expect(partials.length).toBeGreaterThan(0);

      const store = new ImageStore(root);
      expect(store.list()).toEqual([]);
      let fetched = 0;
      let resumedFrom = 0;
      // the same repository straight from the registry: the partial blob is found by digest
      const rec = await store.pull(`${reg.host}/tsc/big:latest`, {
        onProgress: (e) => {
          if (e.kind === 'download-progress' && e.digest === built.layers[1].digest) fetched = e.current;
          if (e.kind === 'download-resume' && e.digest === built.layers[1].digest) resumedFrom = e.from;
        },
      });
      expect(fetched).toBe(built.layers[1].size);
      expect(resumedFrom).toBeGreaterThan(0); // continued from the killed pull's partial blob
      const top = store.rootfs(rec.id).lowerDirs[0];
      const sum = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
      expect(sum(readFileSync(path.join(top, 'big.bin')))).toBe(sum(payload));
      expect(readdirSync(path.join(root, 'blobs/tmp'))).toEqual([]);
    } finally {
      await proxy.close();
    }
  });
});
