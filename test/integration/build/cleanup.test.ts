/**
 * What a failed, interrupted or killed build leaves behind (nothing), its error (naming the
 * Dockerfile line), and the RUN network: none (loopback only) against default (the build bridge
 * with egress, reaching a test host of this test's own).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { TscError } from '../../../src/common/errors.js';
import { readIpam } from '../../../src/network/index.js';
import { createOutsideHost, type OutsideHost } from '../../support/outside-host.js';
import { leftovers, makeBuildHarness, type BuildHarness } from './harness.js';

let h: BuildHarness;
let outside: OutsideHost | undefined;
beforeAll(() => {
  h = makeBuildHarness('cleanup');
});
afterAll(() => {
  outside?.remove();
  h?.cleanup();
});

async function failure(p: Promise<unknown>): Promise<TscError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof TscError) return e;
    throw e;
  }
  throw new Error('the build succeeded');
}

describe('build failures', () => {
  it('names the Dockerfile line of a failing RUN and leaves no link, mount, cgroup, network or scratch dir', async () => {
    const r = h.newRoot();
    await h.build(r, { context: h.context({ Dockerfile: 'FROM busybox\n' }) }); // the base image loaded
    const before = leftovers(r.root);
    const ctx = h.context({ Dockerfile: 'FROM busybox\nRUN echo ok > /ok\nRUN echo partial > /p && echo failing now && exit 2\nRUN echo never\n' });
    const e = await failure(h.build(r, { context: ctx, network: 'default' }));
    expect(e.code).toBe('BUILD_FAILED');
    expect(e.message).toBe('Dockerfile:3: RUN echo partial > /p && echo failing now && exit 2: exit code 2');
    expect(e.hint).toContain('failing now');
    expect(leftovers(r.root)).toEqual(before);
    expect(Object.keys(readIpam(r.root).networks)).toEqual([]);
  });

  it('stops an interrupted RUN and leaves nothing behind', async () => {
    const r = h.newRoot();
    await h.build(r, { context: h.context({ Dockerfile: 'FROM busybox\n' }) });
    const before = leftovers(r.root);
    const ac = new AbortController();
    const ctx = h.context({ Dockerfile: 'FROM busybox\nRUN echo started && sleep 60\n' });
    setTimeout(() => ac.abort(), 1500);
    const t = Date.now();
    const e = await failure(h.build(r, { context: ctx }, ac.signal));
    expect(Date.now() - t).toBeLessThan(15_000);
    expect(e.message).toMatch(/Dockerfile:2: .*interrupted/);
    expect(leftovers(r.root)).toEqual(before);
  });

  it('cleans up the scratch directory of a build whose process died', async () => {
    const r = h.newRoot();
    const dead = spawnSync('true').pid!;
    const left = path.join(r.root, 'build', 'tmp', `${dead}.deadbeef`);
    mkdirSync(left, { recursive: true });
    writeFileSync(path.join(left, 'layer-1.tar.gz'), 'half');
    await h.build(r, { context: h.context({ Dockerfile: 'FROM busybox\n' }) });
    expect(existsSync(left)).toBe(false);
  });
});

describe('RUN network', () => {
  it('has loopback only with none, and reaches a test host through the build bridge with default', async () => {
    outside = await createOutsideHost();
    const r = h.newRoot();
    const fetch = `RUN timeout 5 wget -q -O /got http://${outside.address}:8000/ && echo fetched`;
    const none = await failure(
      h.build(r, { context: h.context({ Dockerfile: `FROM busybox\nRUN ip link 2>/dev/null | grep -c LOOPBACK || true\n${fetch}\n` }), network: 'none' }),
    );
    expect(none.message).toMatch(/^Dockerfile:3: RUN timeout 5 wget .*: exit code/);
    const before = leftovers(r.root);
    const ok = await h.build(r, { context: h.context({ Dockerfile: `FROM busybox\n${fetch}\n` }), network: 'default' });
    expect(ok.events.some((e) => e.kind === 'step-output' && e.line === 'fetched')).toBe(true);
    expect(outside.requests.length).toBeGreaterThan(0);
    h.withRoot(r.store, ok.image.id, (root) => expect(existsSync(path.join(root, 'got'))).toBe(true));
    expect(leftovers(r.root)).toEqual(before);
  });
});
