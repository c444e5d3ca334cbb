import { describe, expect, it } from 'vitest';
import { PullProgress, PushProgress } from '../../../src/images/progress.js';

describe('PullProgress', () => {
  it('sums layer events into one status line', () => {
    const p = new PullProgress();
    expect(
      p.update({
        kind: 'resolved',
        ref: 'x',
        digest: 'd',
        layers: [
          { digest: 'a', size: 1_000_000 },
          { digest: 'b', size: 3_000_000 },
          { digest: 'c', size: 5 },
        ],
      }),
    ).toBe('Downloading 0% of 4.0 MB');
    p.update({ kind: 'layer-present', digest: 'c', size: 5 });
    expect(p.update({ kind: 'download-progress', digest: 'a', current: 1_000_000, total: 1_000_000 })).toBe('Downloading 25% of 4.0 MB');
    expect(p.update({ kind: 'download-resume', digest: 'b', from: 1_000_000 })).toBe('Downloading 50% of 4.0 MB');
    p.update({ kind: 'download-done', digest: 'b', size: 3_000_000 });
    expect(p.update({ kind: 'unpack-done', digest: 'a' })).toBe('Extracting 1/2 layers');
    expect(p.update({ kind: 'unpack-done', digest: 'b' })).toBe('Finishing');
    expect(p.update({ kind: 'done', id: 'sha256:x', downloaded: true })).toBe('Pulled');
    expect(p.bytes()).toEqual({ current: 4_000_000, total: 4_000_000 });
  });
});

describe('PushProgress', () => {
  it('counts only the blobs that go up: present and mounted ones are skipped', () => {
    const p = new PushProgress();
    expect(p.text()).toBe('Preparing');
    p.update({
      kind: 'resolved',
      ref: 'x',
      layers: [
        { digest: 'a', size: 1_000_000 },
        { digest: 'b', size: 3_000_000 },
        { digest: 'c', size: 2_000_000 },
      ],
    });
    p.update({ kind: 'layer-exists', digest: 'a', size: 1_000_000 });
    expect(p.update({ kind: 'layer-mounted', digest: 'c', size: 2_000_000, from: 'other/repo' })).toBe('Pushing 0% of 3.0 MB');
    expect(p.update({ kind: 'upload-progress', digest: 'b', current: 1_500_000, total: 3_000_000 })).toBe('Pushing 50% of 3.0 MB');
    expect(p.update({ kind: 'upload-done', digest: 'b', size: 3_000_000 })).toBe('Finishing');
    expect(p.update({ kind: 'done', digest: 'm', size: 500 })).toBe('Pushed');
  });
});
