/**
 * The step cache and determinism: an unchanged rebuild runs nothing, a changed COPY reruns from
 * that step only, noCache runs everything, a layer removed by gc is a miss, and two clean stores
 * give the same image id.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import type { BuildEvent } from '../../../src/build/index.js';
import { makeBuildHarness, type BuildHarness } from './harness.js';

let h: BuildHarness;
beforeAll(() => {
  h = makeBuildHarness('cache');
});
afterAll(() => h?.cleanup());

const DOCKERFILE = [
  'FROM busybox',
  'RUN echo one > /one && echo ran-one',
  'COPY a.txt /a.txt',
  'RUN cat /a.txt > /copy && echo ran-two',
  'COPY b.txt /b.txt',
  'CMD ["sh"]',
].join('\n');

/** The output lines of RUN steps that ran (a cached step prints nothing). */
const runs = (events: BuildEvent[]) => events.flatMap((e) => (e.kind === 'step-output' && /^ran-/.test(e.line) ? [e.line] : []));

describe('build cache', () => {
  it('reuses every step of an unchanged build, reruns from a changed COPY only, and runs all with noCache', async () => {
    const r = h.newRoot();
    const ctx = h.context({ Dockerfile: DOCKERFILE, 'a.txt': 'a1\n', 'b.txt': 'b1\n' });
    const first = await h.build(r, { context: ctx });
    expect(runs(first.events)).toEqual(['ran-one', 'ran-two']);
    expect([first.ran, first.cached]).toEqual([5, 0]);

    const again = await h.build(r, { context: ctx });
    expect(again.image.id).toBe(first.image.id);
    expect(runs(again.events)).toEqual([]);
    expect([again.ran, again.cached]).toEqual([0, 5]);

    // b.txt changes: only its COPY (and what follows) runs again; the RUNs do not
    writeFileSync(path.join(ctx, 'b.txt'), 'b2\n');
    const b = await h.build(r, { context: ctx });
    expect(runs(b.events)).toEqual([]);
    expect([b.ran, b.cached]).toEqual([2, 3]);
    expect(b.image.id).not.toBe(first.image.id);

    // a.txt changes: its COPY and the RUN after it run again, the first RUN does not
    writeFileSync(path.join(ctx, 'a.txt'), 'a2\n');
    const a = await h.build(r, { context: ctx });
    expect(runs(a.events)).toEqual(['ran-two']);
    expect([a.ran, a.cached]).toEqual([4, 1]);

    const nc = await h.build(r, { context: ctx, noCache: true });
    expect(runs(nc.events)).toEqual(['ran-one', 'ran-two']);
    expect(nc.image.id).toBe(a.image.id);
  });

  it('treats a step whose layer was removed as a miss', async () => {
    const r = h.newRoot();
    const ctx = h.context({ Dockerfile: 'FROM busybox\nRUN echo x > /x && echo ran-x\n' });
    const first = await h.build(r, { context: ctx, tags: ['tsc-test/gc:1'] });
    await r.store.remove('tsc-test/gc:1');
    expect(r.store.layers.has(first.image.diffIds[1]!)).toBe(false);
    const again = await h.build(r, { context: ctx, tags: ['tsc-test/gc:1'] });
    expect(runs(again.events)).toEqual(['ran-x']);
    expect(again.image.id).toBe(first.image.id);
  });

  it('gives the same image id on two clean stores, and honours SOURCE_DATE_EPOCH', async () => {
    const files = { Dockerfile: DOCKERFILE + '\nRUN mkdir -p /var/x && date > /dev/null\n', 'a.txt': 'a\n', 'b.txt': 'b\n' };
    const one = await h.build(h.newRoot(), { context: h.context(files) });
    const two = await h.build(h.newRoot(), { context: h.context(files) });
    expect(two.image.id).toBe(one.image.id);
    const r3 = h.newRoot();
    const dated = await h.build(r3, { context: h.context(files), args: { SOURCE_DATE_EPOCH: '1700000000' } });
    expect(dated.image.id).not.toBe(one.image.id);
    expect(dated.image.created).toBe('2023-11-14T22:13:20Z');
    rmSync(r3.root, { recursive: true, force: true });
  });
});
