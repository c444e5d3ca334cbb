import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { atTarget, resolveInRoot } from '../../../src/engine/init/paths.js';

describe('atTarget (CVE-2021-30465: a symlink swapped in after the target was resolved)', () => {
  let dir: string;
  let root: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tsc-target-unit-'));
    root = path.join(dir, 'root');
    mkdirSync(path.join(root, 'data/sub/x'), { recursive: true });
    mkdirSync(path.join(dir, 'outside/x'), { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const swapInLink = () => {
    rmSync(path.join(root, 'data/sub'), { recursive: true });
    symlinkSync(path.join(dir, 'outside'), path.join(root, 'data/sub'));
  };

  it('hands over the object resolved inside the root', () => {
    const t = resolveInRoot(root, '/data/sub/x');
    expect(atTarget(root, t, (p) => p)).toMatch(/^\/proc\/self\/fd\/\d+$/);
  });

  it('refuses when a parent directory became a symlink to the host', () => {
    const t = resolveInRoot(root, '/data/sub/x');
    swapInLink();
    expect(() => atTarget(root, t, () => 'mounted')).toThrow(/refusing to mount outside the container's root/);
  });

  it('refuses when the target itself became a symlink', () => {
    const t = resolveInRoot(root, '/data/sub');
    swapInLink();
    expect(() => atTarget(root, t, () => 'mounted')).toThrow(/refusing to mount/);
  });

  it('resolves a symlink planted before resolution inside the root', () => {
    swapInLink();
    expect(resolveInRoot(root, '/data/sub/x')).toBe(path.join(root, dir, 'outside/x'));
  });
});
