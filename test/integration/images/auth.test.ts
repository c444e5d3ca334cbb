/** Registry auth: bearer tokens from WWW-Authenticate and basic auth, credentials from the Docker config file. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { ImageStore } from '../../../src/images/index.js';
import { TscError } from '../../../src/common/errors.js';
import { startAuthProxy, startRegistry, type TestRegistry } from '../../support/registry.js';
import { buildOneLayer, LAYOUT_TAG } from '../../support/images.js';

let reg: TestRegistry;
let tmp: string;

function dockerConfig(name: string, host: string, user: string, password: string): NodeJS.ProcessEnv {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } } }));
  return { DOCKER_CONFIG: dir, HOME: tmp };
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'tsc-images-auth-'));
  reg = await startRegistry();
  buildOneLayer(path.join(tmp, 'one'));
  await reg.pushOci(path.join(tmp, 'one'), LAYOUT_TAG, 'private/busybox:1');
});

afterAll(async () => {
  await reg?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('registry auth', () => {
  it('gets a bearer token from the realm named in WWW-Authenticate, with basic credentials from the config file', async () => {
    const proxy = await startAuthProxy(reg.port, 'bearer', 'alice', 's3cret');
    try {
      const env = dockerConfig('cfg-bearer', proxy.host, 'alice', 's3cret');
      const store = new ImageStore(path.join(tmp, 'store-bearer'), { env });
      const rec = await store.pull(`${proxy.host}/private/busybox:1`);
      expect(rec.repoTags).toEqual([`${proxy.host}/private/busybox:1`]);
      expect(proxy.tokenRequests[0]).toEqual({ service: 'tsc-test-registry', scope: 'repository:private/busybox:pull' });

      const wrong = new ImageStore(path.join(tmp, 'store-bearer-wrong'), { env: dockerConfig('cfg-wrong', proxy.host, 'alice', 'nope') });
      const err = await wrong.pull(`${proxy.host}/private/busybox:1`).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TscError);
      expect((err as TscError).code).toBe('IMAGE_AUTH');
      expect((err as TscError).message).toContain(`${proxy.host}/private/busybox:1`);
    } finally {
      await proxy.close();
    }
  });

  it('uses basic auth when the registry asks for it, and says so when no credentials exist', async () => {
    const proxy = await startAuthProxy(reg.port, 'basic', 'bob', 'pw');
    try {
      const store = new ImageStore(path.join(tmp, 'store-basic'), { env: dockerConfig('cfg-basic', `http://${proxy.host}`, 'bob', 'pw') });
      const rec = await store.pull(`${proxy.host}/private/busybox:1`);
      expect(store.rootfs(rec.id).lowerDirs).toHaveLength(1);

      const anon = new ImageStore(path.join(tmp, 'store-anon'), { env: { HOME: path.join(tmp, 'nobody'), DOCKER_CONFIG: path.join(tmp, 'nobody') } });
      const err = await anon.pull(`${proxy.host}/private/busybox:1`).catch((e: unknown) => e);
      expect((err as TscError).code).toBe('IMAGE_AUTH');
      expect((err as TscError).hint).toMatch(/config\.json/);
    } finally {
      await proxy.close();
    }
  });
});
