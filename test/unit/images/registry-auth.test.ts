/**
 * Registry auth through the client: a loopback registry that answers 401 with a bearer
 * challenge gets a token from its realm, asked with the Docker config's basic credentials.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseReference } from '../../../src/images/reference.js';
import { RegistryClient } from '../../../src/images/registry.js';

async function withRegistry(handle: (req: IncomingMessage, res: ServerResponse, base: string) => void, body: (base: string) => Promise<void>): Promise<void> {
  const server = createServer((req, res) => handle(req, res, `127.0.0.1:${(server.address() as AddressInfo).port}`));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await body(`127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('registry auth through RegistryClient', () => {
  it('follows a bearer challenge to its realm with the config file credentials', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'tsc-regauth-'));
    const tokenRequests: Array<{ query: string; authorization?: string }> = [];
    try {
      await withRegistry(
        (req, res, base) => {
          const url = new URL(req.url ?? '/', `http://${base}`);
          if (url.pathname === '/token') {
            tokenRequests.push({ query: url.search, authorization: req.headers.authorization });
            res.setHeader('content-type', 'application/json');
            res.end(JSON.stringify({ token: 'tok-1' }));
            return;
          }
          if (req.headers.authorization !== 'Bearer tok-1') {
            res.statusCode = 401;
            res.setHeader('www-authenticate', `Bearer realm="http://${base}/token",service="reg \\"test\\"",scope="repository:lib/app:pull"`);
            res.end();
            return;
          }
          res.setHeader('content-type', 'application/vnd.oci.image.manifest.v1+json');
          res.end('{}');
        },
        async (base) => {
          writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths: { [`http://${base}`]: { auth: Buffer.from('me:p:w').toString('base64') } } }));
          const m = await new RegistryClient(parseReference(`${base}/lib/app:latest`), undefined, { DOCKER_CONFIG: dir }).manifest('latest');
          expect(m.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
          const q = new URLSearchParams(tokenRequests[0]!.query);
          expect([q.get('service'), q.get('scope')]).toEqual(['reg "test"', 'repository:lib/app:pull']);
          expect(tokenRequests[0]!.authorization).toBe(`Basic ${Buffer.from('me:p:w').toString('base64')}`);
        },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a basic challenge without credentials is a clear IMAGE_AUTH error', async () => {
    await withRegistry(
      (_req, res) => {
        res.statusCode = 401;
        res.setHeader('www-authenticate', 'Basic realm="Registry Realm"');
        res.end();
      },
      async (base) => {
        const client = new RegistryClient(parseReference(`${base}/lib/app:latest`), undefined, { DOCKER_CONFIG: path.join(os.tmpdir(), 'tsc-no-such-dir') });
        await expect(client.manifest('latest')).rejects.toMatchObject({ code: 'IMAGE_AUTH', hint: expect.stringContaining('add credentials') });
      },
    );
  });
});
