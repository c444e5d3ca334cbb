/**
 * The builder on the real kernel: RUN layers (new, changed, deleted files, an opaque
 * directory), multi-stage COPY --from, ARG/ENV, USER and WORKDIR, .dockerignore, the history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import { makeBuildHarness, type BuildHarness } from './harness.js';

let h: BuildHarness;
beforeAll(() => {
  h = makeBuildHarness('layers');
});
afterAll(() => h?.cleanup());

describe('build', () => {
  it('turns RUN changes into layers: new, changed and deleted files, an opaque directory', async () => {
    const r = h.newRoot();
    const ctx = h.context({
      Dockerfile: [
        'FROM busybox',
        'RUN mkdir -p /data/old /data/keep && echo a > /data/old/a && echo k > /data/keep/k && echo 1 > /etc/motd',
        'RUN rm /etc/motd && echo 2 > /data/keep/k && rm -rf /data/old && mkdir /data/old && echo b > /data/old/b && echo new > /new',
        'CMD ["cat", "/new"]',
      ].join('\n'),
    });
    const res = await h.build(r, { context: ctx, tags: ['tsc-test/layers:1'] });
    expect(res.image.repoTags).toEqual(['docker.io/tsc-test/layers:1']);
    expect(res.image.diffIds).toHaveLength(3);
    expect(res.image.config.Cmd).toEqual(['cat', '/new']);
    h.withRoot(r.store, res.image.id, (root) => {
      expect(readFileSync(path.join(root, 'new'), 'utf8')).toBe('new\n');
      expect(existsSync(path.join(root, 'etc/motd'))).toBe(false);
      expect(readFileSync(path.join(root, 'data/keep/k'), 'utf8')).toBe('2\n');
      // the directory replaced by the second RUN hides what the first one put in it
      expect(existsSync(path.join(root, 'data/old/a'))).toBe(false);
      expect(readFileSync(path.join(root, 'data/old/b'), 'utf8')).toBe('b\n');
      expect(existsSync(path.join(root, 'bin/busybox'))).toBe(true);
      // the engine's mount points are not part of the steps' layers
      expect(existsSync(path.join(root, 'etc/hosts'))).toBe(false);
    });
    const doc = r.store.configDocument(res.image.id) as { history: Array<{ created_by: string; empty_layer?: boolean }>; created: string };
    expect(doc.created).toBe('1970-01-01T00:00:00Z');
    const mine = doc.history.slice(-3);
    expect(mine[0]!.created_by).toMatch(/^\/bin\/sh -c mkdir -p \/data\/old/);
    expect(mine[2]).toEqual({ created: '1970-01-01T00:00:00Z', created_by: '/bin/sh -c #(nop) CMD ["cat","/new"]', empty_layer: true });
    const steps = res.events.filter((e) => e.kind === 'step-start');
    expect(steps.map((e) => (e.kind === 'step-start' ? [e.step, e.total, e.line] : []))).toEqual([
      [1, 4, 1],
      [2, 4, 2],
      [3, 4, 3],
      [4, 4, 4],
    ]);
  });

  it('builds multi-stage with COPY --from, ARG and ENV, USER and WORKDIR, and honours .dockerignore', async () => {
    const r = h.newRoot();
    const ctx = h.context({
      Dockerfile: [
        'ARG BASE=busybox',
        'FROM ${BASE} AS build',
        'ARG GREETING=hello',
        'ARG WHO',
        'ENV OUT=/out GREETING2="${GREETING} there"',
        'RUN mkdir -p $OUT && echo "$GREETING $WHO" > $OUT/msg && echo "$GREETING2" > $OUT/msg2',
        '',
        'FROM busybox',
        'WORKDIR /app',
        'COPY --from=build /out/ ./from-build/',
        'COPY --chown=app:app . /app/src/',
        'USER app',
        'WORKDIR sub',
        'RUN id -u > /tmp/uid && pwd > /tmp/pwd && touch mine',
        'ENV V=${V:-dflt} W=${GREETING:+set}',
        'LABEL org.test="a b"',
      ].join('\n'),
      'hello.txt': 'hi\n',
      'secret.key': 'do not ship\n',
      'sub/keep.txt': 'keep\n',
      'sub/drop.log': 'drop\n',
      '.dockerignore': 'secret.key\n**/*.log\n',
    });
    const res = await h.build(r, { context: ctx, args: { WHO: 'world' }, labels: { 'com.example': 'x' } });
    expect(res.image.config.WorkingDir).toBe('/app/sub');
    expect(res.image.config.User).toBe('app');
    expect(res.image.config.Env).toContain('V=dflt');
    expect(res.image.config.Env).toContain('W=');
    expect(res.image.config.Labels).toEqual({ 'org.test': 'a b', 'com.example': 'x' });
    h.withRoot(r.store, res.image.id, (root) => {
      expect(readFileSync(path.join(root, 'app/from-build/msg'), 'utf8')).toBe('hello world\n');
      expect(readFileSync(path.join(root, 'app/from-build/msg2'), 'utf8')).toBe('hello there\n');
      expect(readFileSync(path.join(root, 'app/src/hello.txt'), 'utf8')).toBe('hi\n');
      expect(statSync(path.join(root, 'app/src/hello.txt')).uid).toBe(1000);
      expect(existsSync(path.join(root, 'app/src/secret.key'))).toBe(false);
      expect(existsSync(path.join(root, 'app/src/sub/keep.txt'))).toBe(true);
      expect(existsSync(path.join(root, 'app/src/sub/drop.log'))).toBe(false);
      expect(readFileSync(path.join(root, 'tmp/uid'), 'utf8')).toBe('1000\n');
      expect(readFileSync(path.join(root, 'tmp/pwd'), 'utf8')).toBe('/app/sub\n');
      expect(statSync(path.join(root, 'app/sub/mine')).uid).toBe(1000);
    });
  });
});
