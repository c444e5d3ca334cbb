/**
 * CVE-2021-30465 class: a process outside the starting container (another container sharing a
 * volume) swaps a symlink into the path of a mount target while the init stage mounts it. The
 * mount must land inside the container's root (or the start fail clearly), never where the
 * symlink points on the host.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeHarness, type Harness } from '../engine/harness.js';

let h: Harness;
beforeAll(() => {
  h = makeHarness('race');
});
afterAll(async () => {
  await h?.cleanup();
});

describe('mount targets under a racing symlink', () => {
  it('always mount inside the root', async () => {
    const swap = path.join(h.dir, 'swap');
    execFileSync('gcc', ['-O1', '-o', swap, path.join(__dirname, 'swap.c')]);
    // the shared volume: data/sub is a directory, data/sublink a symlink to a host directory
    const vol = path.join(h.dir, 'vol');
    const outside = path.join(h.dir, 'outside');
    mkdirSync(path.join(vol, 'sub', 'target'), { recursive: true });
    mkdirSync(path.join(outside, 'target'), { recursive: true });
    symlinkSync(outside, path.join(vol, 'sublink'));
    const src = path.join(h.dir, 'tsc-race-source');
    mkdirSync(src);
    writeFileSync(path.join(src, 'marker'), 'inside\n');
    const racer = spawn('nice', ['-n', '19', swap, path.join(vol, 'sub'), path.join(vol, 'sublink')], { stdio: 'ignore' });
    const outcomes: Record<string, number> = {};
    try {
      for (let i = 0; i < 12; i++) {
        const s = h.spec({
          // the mount of the source is listed in the container's mountinfo only if it lies inside its root
          args: ['sh', '-c', 'grep -c tsc-race-source /proc/self/mountinfo || true'],
          mounts: [
            { type: 'bind', source: vol, target: '/data', readonly: false },
            { type: 'bind', source: src, target: '/data/sub/target', readonly: true },
          ],
        });
        let key: string;
        try {
          const r = await h.run(s);
          key = r.stdout.trim() === '1' ? 'inside' : `outside (${r.stdout.trim()})`;
        } catch (e) {
          key = `refused: ${(e as Error).message.split('\n')[0]}`;
        }
        outcomes[key] = (outcomes[key] ?? 0) + 1;
      }
    } finally {
      racer.kill('SIGKILL');
    }
    console.log('mount race outcomes', outcomes);
    expect(Object.keys(outcomes).filter((k) => k.startsWith('outside'))).toEqual([]);
    expect(outcomes.inside).toBeGreaterThan(0);
  });
});
