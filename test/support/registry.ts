/**
 * A real OCI registry for tests: Debian's docker-registry (CNCF distribution) listening on
 * 127.0.0.1 on a free port, storing in its own temp directory. `stop()` kills it and removes the
 * storage. Also a throttling TCP proxy in front of it, to make a pull slow enough to interrupt.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);
export const REGISTRY_BIN = '/usr/bin/docker-registry';

export interface TestRegistry {
  /** "127.0.0.1:PORT" */
  host: string;
  port: number;
  /** the registry's storage root (blobs under docker/registry/v2/blobs/sha256/xx/<hex>/data) */
  storage: string;
  /** pushes an OCI layout image (dir:tag) to REPO:TAG with skopeo */
  pushOci(layoutDir: string, layoutTag: string, repoTag: string, extraArgs?: string[]): Promise<void>;
  /** path of a blob's data file in the registry's storage */
  blobPath(digest: string): string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitReady(host: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode}): ${log()}`);
    try {
      const res = await fetch(`http://${host}/v2/`);
      if (res.ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not become ready on ${host}: ${log()}`);
}

export async function startRegistry(): Promise<TestRegistry> {
  if (!existsSync(REGISTRY_BIN)) throw new Error('docker-registry is not installed (apt-get install docker-registry); scripts/setup.sh installs it');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsc-registry-'));
  const storage = path.join(dir, 'storage');
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config = path.join(dir, 'config.yml');
  writeFileSync(
    config,
    [
      'version: 0.1',
      'log:',
      '  level: error',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${storage}`,
      '  delete:',
      '    enabled: true',
      'http:',
      `  addr: ${host}`,
      '',
    ].join('\n'),
  );
  const child = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + String(d)).slice(-4000)));
  child.stderr!.on('data', (d) => (out = (out + String(d)).slice(-4000)));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(host, child, () => out);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    host,
    port,
    storage,
    async pushOci(layoutDir, layoutTag, repoTag, extraArgs = []) {
      await execFileP('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', ...extraArgs, `oci:${layoutDir}:${layoutTag}`, `docker://${host}/${repoTag}`]);
    },
    blobPath(digest) {
      const hex = digest.slice('sha256:'.length);
      return path.join(storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    },
    stop,
  };
}

export interface SlowProxy {
  port: number;
  host: string;
  close(): Promise<void>;
}

/** A loopback TCP proxy that passes at most `bytesPerSecond` from the registry to the client. */
export async function startSlowProxy(target: number, bytesPerSecond: number): Promise<SlowProxy> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    client.pipe(upstream);
    const slice = Math.max(1, Math.floor(bytesPerSecond / 20));
    upstream.on('data', (chunk: Buffer) => {
      upstream.pause();
      let off = 0;
      const step = (): void => {
        if (client.destroyed) return;
        if (off >= chunk.length) {
          upstream.resume();
          return;
        }
        client.write(chunk.subarray(off, off + slice));
        off += slice;
        setTimeout(step, 50);
      };
      step();
    });
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    upstream.on('end', () => client.end());
    upstream.on('error', end);
    client.on('error', end);
    client.on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    host: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

export interface AuthProxy {
  host: string;
  /** token requests seen: their service and scope parameters */
  tokenRequests: { service: string | null; scope: string | null }[];
  /** every scope parameter of each token request (a push asks for several) */
  tokenScopes: string[][];
  /** every registry request passed on (method, path, query and the registry's status), to count uploads */
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * A loopback front for the test registry that demands auth as real registries do. `bearer`: /v2/
 * answers 401 with a WWW-Authenticate Bearer challenge whose realm is this proxy's /token, which
 * hands out a token only for the given basic credentials. `basic`: /v2/ wants the credentials
 * directly. `none`: no auth, only the recording of `requests`.
 */
export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string | string[] | undefined>;
  status: number;
}

export async function startAuthProxy(target: number, mode: 'bearer' | 'basic' | 'none', user = '', password = ''): Promise<AuthProxy> {
  const http = await import('node:http');
  const expectedBasic = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const token = `tsc-token-${Math.random().toString(36).slice(2)}`;
  const tokenRequests: AuthProxy['tokenRequests'] = [];
  const requests: RecordedRequest[] = [];
  const tokenScopes: string[][] = [];
  let host = '';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${host}`);
    if (url.pathname === '/token') {
      tokenRequests.push({ service: url.searchParams.get('service'), scope: url.searchParams.get('scope') });
      tokenScopes.push(url.searchParams.getAll('scope'));
      if (req.headers.authorization !== expectedBasic) {
        res.writeHead(401).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token }));
      return;
    }
    const ok = mode === 'none' ? true : mode === 'bearer' ? req.headers.authorization === `Bearer ${token}` : req.headers.authorization === expectedBasic;
    if (!ok) {
      const repo = /^\/v2\/(.+)\/(?:manifests|blobs)\//.exec(url.pathname)?.[1];
      const challenge =
        mode === 'bearer'
          ? `Bearer realm="http://${host}/token",service="tsc-test-registry"${repo ? `,scope="repository:${repo}:pull"` : ''}`
          : 'Basic realm="tsc test"';
      res.writeHead(401, { 'www-authenticate': challenge, 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED"}]}');
      return;
    }
    const headers = { ...req.headers };
    delete headers.authorization;
    const up = http.request({ host: '127.0.0.1', port: target, path: req.url, method: req.method, headers }, (ur) => {
      requests.push({ method: req.method ?? '', path: url.pathname, query: url.search, headers: req.headers, status: ur.statusCode ?? 502 });
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  host = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  return {
    host,
    tokenRequests,
    tokenScopes,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
