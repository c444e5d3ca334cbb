#!/usr/bin/env node
// Times tscompose's builder on a small multi-step Dockerfile (FROM busybox, 3 RUN, 2 COPY, ENV,
// CMD): a cold build on an empty state root (busybox loaded, no cache) and a cached rebuild of
// the same inputs. RUN network "none", so nothing leaves the machine.
//
//   npm run build && sudo node bench/build.mjs [--runs N]
//
// Peers (docker build with DOCKER_BUILDKIT=0, buildah bud, podman build) are measured only when
// their daemon or binary is already there; none is installed here by this script (installing
// Docker changes the host's packet filter, which other users of the machine share).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const { buildBusyboxLayout, packDirectory } = await import(path.join(here, '../scripts/build-busybox-image.mjs'));
const { ImageStore } = await import(path.join(here, '../dist/images/index.js'));
const { buildImage } = await import(path.join(here, '../dist/build/index.js'));

const i = process.argv.indexOf('--runs');
const runs = i >= 0 ? Number(process.argv[i + 1]) : 5;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'tsc-bench-build-'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  buildBusyboxLayout(path.join(tmp, 'layout'));
  const archive = packDirectory(path.join(tmp, 'layout'), path.join(tmp, 'busybox.tar'));
  const ctx = path.join(tmp, 'ctx');
  mkdirSync(ctx);
  writeFileSync(path.join(ctx, 'app.txt'), 'app\n'.repeat(1000));
  writeFileSync(path.join(ctx, 'conf.txt'), 'conf\n');
  writeFileSync(
    path.join(ctx, 'Dockerfile'),
    [
      'FROM busybox',
      'RUN mkdir -p /srv/app && echo one > /srv/app/one',
      'COPY app.txt /srv/app/',
      'RUN wc -l /srv/app/app.txt > /srv/app/count',
      'ENV MODE=bench',
      'COPY conf.txt /etc/app.conf',
      'RUN rm /srv/app/one && echo done',
      'CMD ["cat", "/srv/app/count"]',
    ].join('\n'),
  );
  const req = { context: ctx, args: {}, labels: {}, network: 'none', noCache: false, pull: false, tags: ['bench/app:1'], additionalContexts: {} };
  const cold = [];
  const warm = [];
  for (let n = 0; n < runs; n++) {
    const root = path.join(tmp, `root-${n}`);
    const store = new ImageStore(path.join(root, 'images'));
    await store.load(archive);
    let t = performance.now();
    const a = await buildImage(req, { root, images: store });
    cold.push((performance.now() - t) / 1000);
    t = performance.now();
    const b = await buildImage(req, { root, images: store });
    warm.push((performance.now() - t) / 1000);
    if (b.ran !== 0 || b.image.id !== a.image.id) throw new Error('the rebuild was not fully cached');
    rmSync(root, { recursive: true, force: true });
  }
  const peer = (cmd, args) => {
    try {
      execFileSync(cmd, args, { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  console.log(`| seconds (median of ${runs}) | cold build | cached rebuild |`);
  console.log('| --- | --- | --- |');
  console.log(`| tscompose | ${median(cold).toFixed(2)} | ${median(warm).toFixed(2)} |`);
  console.log(
    `| docker build (DOCKER_BUILDKIT=0) | ${peer('docker', ['info']) ? 'daemon present: not run by this script yet' : 'not measured: no Docker daemon here'} | |`,
  );
  console.log(
    `| buildah bud / podman build | ${peer('buildah', ['--version']) || peer('podman', ['--version']) ? 'installed: not run by this script yet' : 'not measured: not installed'} | |`,
  );
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
