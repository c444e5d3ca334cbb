/**
 * Shared setup for the builder's kernel tests: a state root of the test's own with the busybox
 * image loaded (docker.io/library/busybox:latest), a context directory writer, a build call
 * that collects events, a read-only view of an image's root (an overlay mount the test removes),
 * and a count of what a build could leave behind (links, mounts, cgroups, scratch dirs).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { buildImage, type BuildEvent, type BuildRequest, type BuildResult } from '../../../src/build/index.js';
import { ImageStore } from '../../../src/images/index.js';
import { archiveOf, buildOneLayer } from '../../support/images.js';

export interface BuildHarness {
  dir: string;
  newRoot(): { root: string; store: ImageStore };
  context(files: Record<string, string>): string;
  build(
    root: { root: string; store: ImageStore },
    req: Partial<BuildRequest> & { context: string },
    signal?: AbortSignal,
  ): Promise<BuildResult & { events: BuildEvent[] }>;
  /** mounts the image's layers read-only and calls fn with the mount point */
  withRoot<T>(store: ImageStore, id: string, fn: (dir: string) => T): T;
  cleanup(): void;
}

let archive: string | undefined;

export function makeBuildHarness(tag: string): BuildHarness {
  const dir = mkdtempSync(path.join(os.tmpdir(), `tsc-build-${tag}-`));
  if (!archive || !existsSync(archive)) {
    const layoutDir = path.join(dir, 'busybox-layout');
    buildOneLayer(layoutDir);
    archive = archiveOf(layoutDir, path.join(dir, 'busybox.tar'));
  }
  const busybox = archive;
  let n = 0;
  const h: BuildHarness = {
    dir,
    newRoot() {
      const root = path.join(dir, `root-${++n}`);
      mkdirSync(root);
      return { root, store: new ImageStore(path.join(root, 'images')) };
    },
    context(files) {
      const ctx = path.join(dir, `ctx-${++n}`);
      mkdirSync(ctx);
      for (const [f, text] of Object.entries(files)) {
        mkdirSync(path.dirname(path.join(ctx, f)), { recursive: true });
        writeFileSync(path.join(ctx, f), text);
      }
      return ctx;
    },
    async build(r, req, signal) {
      if (!r.store.get('busybox')) await r.store.load(busybox);
      const events: BuildEvent[] = [];
      const res = await buildImage(
        { args: {}, labels: {}, network: 'none', noCache: false, pull: false, tags: [], additionalContexts: {}, ...req },
        { root: r.root, images: r.store, onEvent: (e) => events.push(e), signal },
      );
      return { ...res, events };
    },
    withRoot(store, id, fn) {
      const mnt = path.join(dir, `mnt-${++n}`);
      mkdirSync(mnt);
      const { lowerDirs } = store.rootfs(id);
      const lower = lowerDirs.length === 1 ? [...lowerDirs, path.join(dir, 'empty-lower')] : lowerDirs;
      mkdirSync(path.join(dir, 'empty-lower'), { recursive: true });
      execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `ro,lowerdir=${lower.join(':')}`, mnt]);
      try {
        return fn(mnt);
      } finally {
        execFileSync('umount', [mnt]);
      }
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}

/** What a build might leave behind on the machine and under its state root. */
export function leftovers(root: string): { links: number; mounts: number; cgroups: string[]; scratch: string[] } {
  const links = execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' }).split('\n').filter(Boolean).length;
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).length;
  const cgroups: string[] = [];
  for (const base of ['/sys/fs/cgroup', '/sys/fs/cgroup/unified']) {
    let hier: string[];
    try {
      hier = readdirSync(base);
    } catch {
      continue;
    }
    for (const hname of [...hier, '']) {
      const t = path.join(base, hname, 'tscompose');
      try {
        for (const p of readdirSync(t)) if (p.startsWith('build.')) cgroups.push(path.join(t, p));
      } catch {
        /* no tscompose cgroup in this hierarchy */
      }
    }
  }
  let scratch: string[] = [];
  try {
    scratch = readdirSync(path.join(root, 'build', 'tmp'));
  } catch {
    /* none */
  }
  return { links, mounts, cgroups, scratch };
}
