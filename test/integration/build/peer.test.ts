/**
 * Peer cross-check: an image our builder made (whiteouts and an opaque directory included),
 * saved as a docker-archive, is read by `skopeo copy docker-archive:… oci:…` and unpacked by
 * `umoci unpack` to the same files our own view of the image shows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

import { makeBuildHarness, type BuildHarness } from './harness.js';

const execFileP = promisify(execFile);
let h: BuildHarness;
beforeAll(() => {
  h = makeBuildHarness('peer');
});
afterAll(() => h?.cleanup());

describe('built image read by skopeo and umoci', () => {
  it('unpacks to the same files', async () => {
    const r = h.newRoot();
    const ctx = h.context({
      Dockerfile: [
        'FROM busybox',
        'RUN mkdir -p /opt/d && echo old > /opt/d/old && echo gone > /gone',
        'RUN rm -rf /opt/d /gone && mkdir /opt/d && echo new > /opt/d/new',
        'COPY --chmod=0750 app.sh /usr/local/bin/app.sh',
      ].join('\n'),
      'app.sh': '#!/bin/sh\necho app\n',
    });
    const res = await h.build(r, { context: ctx, tags: ['tsc-test/peer:1'] });
    const archive = path.join(h.dir, 'peer.tar');
    await new Promise<void>((resolve, reject) => {
      const out = createWriteStream(archive);
      out.on('finish', resolve).on('error', reject);
      r.store.save(['tsc-test/peer:1'], out).catch(reject);
    });
    const oci = path.join(h.dir, 'peer-oci');
    await execFileP('skopeo', ['copy', '--quiet', `docker-archive:${archive}`, `oci:${oci}:peer`]);
    const bundle = path.join(h.dir, 'peer-bundle');
    await execFileP('umoci', ['unpack', '--image', `${oci}:peer`, bundle]);
    const theirs = path.join(bundle, 'rootfs');
    expect(readFileSync(path.join(theirs, 'opt/d/new'), 'utf8')).toBe('new\n');
    expect(existsSync(path.join(theirs, 'opt/d/old'))).toBe(false);
    expect(existsSync(path.join(theirs, 'gone'))).toBe(false);
    expect(statSync(path.join(theirs, 'usr/local/bin/app.sh')).mode & 0o7777).toBe(0o750);
    h.withRoot(r.store, res.image.id, (ours) => {
      for (const f of ['opt/d/new', 'usr/local/bin/app.sh', 'bin/busybox', 'etc/passwd']) {
        expect(readFileSync(path.join(theirs, f)).equals(readFileSync(path.join(ours, f)))).toBe(true);
      }
    });
  });
});
