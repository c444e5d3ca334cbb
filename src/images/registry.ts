/**
 * A client for the OCI distribution API: manifests and blobs, with bearer-token auth driven by
 * WWW-Authenticate (realm, service, scope) and basic auth from the Docker config file. The pull
 * side lives here; a push client (registry-push.ts) sends its uploads through `request`.
 * Loopback registries are reached over plain HTTP (as Docker does), every other one over HTTPS.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { z } from 'zod';

import { TscError } from '../common/errors.js';
import { MEDIA } from './documents.js';
import { DOCKER_HUB, isLoopbackRegistry, type ImageReference } from './reference.js';

const ACCEPT = [MEDIA.ociIndex, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.dockerManifest].join(', ');

export interface Credentials {
  username: string;
  password: string;
}

const dockerConfig = z.looseObject({
  auths: z.record(z.string(), z.looseObject({ auth: z.string().optional(), username: z.string().optional(), password: z.string().optional() })).optional(),
});

const tokenResponse = z.looseObject({ token: z.string().optional(), access_token: z.string().optional() });

/** Basic credentials for a registry from $DOCKER_CONFIG/config.json or ~/.docker/config.json. */
export function credentialsFor(domain: string, env: NodeJS.ProcessEnv = process.env): Credentials | undefined {
  const dir = env.DOCKER_CONFIG || path.join(env.HOME || os.homedir(), '.docker');
  let cfg: z.output<typeof dockerConfig>;
  try {
    const r = dockerConfig.safeParse(JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')));
    // an unreadable or malformed config file gives no credentials, as a missing one does
    if (!r.success) return undefined;
    cfg = r.data;
  } catch {
    return undefined;
  }
  const wanted = domain === DOCKER_HUB ? ['index.docker.io', 'docker.io', 'registry-1.docker.io'] : [domain];
  for (const [key, entry] of Object.entries(cfg.auths ?? {})) {
    const host = key.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '');
    if (!wanted.includes(host)) continue;
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i > 0) return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
    }
    if (entry.username && entry.password) return { username: entry.username, password: entry.password };
  }
  return undefined;
}

/** Parses `Bearer realm="...",service="...",scope="..."` (and Basic) challenges. */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const m = /^\s*(\S+)\s*(.*)$/.exec(header);
  const scheme = (m?.[1] ?? '').toLowerCase();
  const params: Record<string, string> = {};
  const re = /([A-Za-z_]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  let p: RegExpExecArray | null;
  while ((p = re.exec(m?.[2] ?? '')) !== null) params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
  return { scheme, params };
}

export interface Fetched {
  body: Buffer;
  mediaType: string;
  /** Docker-Content-Digest when the registry sent one */
  digest?: string;
}

/** What a push asks of the registry's token service beyond pulling. */
export interface PushAccess {
  /** repositories of the same registry whose blobs may be mounted (asks for pull on them) */
  mountFrom?: string[];
}

export interface RegistryRequest {
  accept?: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** a 416 answer is returned rather than thrown (a resumed download) */
  allowRangeError?: boolean;
}

export class RegistryClient {
  private authorization?: string;
  /** `https://<endpoint>/v2/<repository path>` */
  readonly base: string;
  private readonly creds?: Credentials;
  private readonly verb: 'pull' | 'push';

  constructor(
    readonly ref: ImageReference,
    private readonly signal?: AbortSignal,
    env: NodeJS.ProcessEnv = process.env,
    private readonly push?: PushAccess,
  ) {
    this.verb = push ? 'push' : 'pull';
    const scheme = isLoopbackRegistry(ref.endpoint) ? 'http' : 'https';
    this.base = `${scheme}://${ref.endpoint}/v2/${ref.path}`;
    this.creds = credentialsFor(ref.domain, env);
    if (this.creds) this.authorization = `Basic ${Buffer.from(`${this.creds.username}:${this.creds.password}`).toString('base64')}`;
  }

  private get image(): string {
    return this.ref.normalized;
  }

  unreachable(e: unknown): TscError {
    if (e instanceof TscError) return e;
    if (this.signal?.aborted || (e as Error)?.name === 'AbortError' || (e as Error)?.name === 'TimeoutError') {
      const timedOut = (this.signal?.reason as Error | undefined)?.name === 'TimeoutError' || (e as Error)?.name === 'TimeoutError';
      return new TscError('IMAGE_REGISTRY', `${this.verb} of ${this.image} ${timedOut ? 'timed out' : 'was cancelled'}`, { cause: e });
    }
    const c = (e as { cause?: { code?: string; message?: string } })?.cause;
    const why = c?.code ?? c?.message ?? (e as Error)?.message ?? String(e);
    return new TscError('IMAGE_REGISTRY', `cannot reach registry ${this.ref.endpoint} for ${this.image}: ${why}`, {
      cause: e,
      hint: 'check the registry name and that the machine can reach it',
    });
  }

  private async fetchToken(challenge: Record<string, string>): Promise<string> {
    const realm = challenge.realm;
    if (!realm) throw new TscError('IMAGE_AUTH', `registry ${this.ref.endpoint} asked for a token without a realm (${this.verb} of ${this.image})`);
    const url = new URL(realm);
    if (challenge.service) url.searchParams.set('service', challenge.service);
    if (this.push) {
      // a registry challenges with the scope of the request at hand; a push needs more
      url.searchParams.append('scope', `repository:${this.ref.path}:pull,push`);
      for (const from of this.push.mountFrom ?? []) url.searchParams.append('scope', `repository:${from}:pull`);
    } else url.searchParams.set('scope', challenge.scope ?? `repository:${this.ref.path}:pull`);
    const headers: Record<string, string> = {};
    if (this.creds) headers.authorization = `Basic ${Buffer.from(`${this.creds.username}:${this.creds.password}`).toString('base64')}`;
    let res: Response;
    try {
      res = await fetch(url, { headers, signal: this.signal });
    } catch (e) {
      throw this.unreachable(e);
    }
    if (!res.ok) {
      throw new TscError('IMAGE_AUTH', `registry ${this.ref.endpoint} refused a ${this.verb} token for ${this.image} (HTTP ${res.status})`, {
        hint: this.creds ? 'check the credentials in ~/.docker/config.json' : 'the image may be private: add credentials to ~/.docker/config.json',
      });
    }
    let text: string;
    try {
      text = await res.text();
    } catch (e) {
      throw this.unreachable(e);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const body = tokenResponse.safeParse(parsed);
    const token = body.success ? (body.data.token ?? body.data.access_token) : undefined;
    if (!token) throw new TscError('IMAGE_AUTH', `registry ${this.ref.endpoint} returned no token for ${this.image}`);
    return token;
  }

  /**
   * A request with auth negotiation (the body is a buffer, so it can be sent again after a
   * challenge); returns a response with status 2xx, 404 or, when allowed, 416 (callers decide).
   */
  async request(method: string, url: string, init: RegistryRequest = {}): Promise<Response> {
    let triedAuth = false;
    for (;;) {
      const headers: Record<string, string> = { ...init.headers };
      if (init.accept) headers.accept = init.accept;
      if (this.authorization) headers.authorization = this.authorization;
      let res: Response;
      try {
        res = await fetch(url, { method, headers, body: init.body as Uint8Array<ArrayBuffer> | undefined, signal: this.signal, redirect: 'follow' });
      } catch (e) {
        throw this.unreachable(e);
      }
      if (res.status === 401 && !triedAuth) {
        triedAuth = true;
        const { scheme, params } = parseChallenge(res.headers.get('www-authenticate') ?? '');
        await res.body?.cancel();
        if (scheme === 'bearer') {
          this.authorization = `Bearer ${await this.fetchToken(params)}`;
          continue;
        }
        if (scheme === 'basic' && this.creds && !this.authorization?.startsWith('Basic')) {
          this.authorization = `Basic ${Buffer.from(`${this.creds.username}:${this.creds.password}`).toString('base64')}`;
          continue;
        }
      }
      if (res.status === 401 || res.status === 403) {
        await res.body?.cancel();
        throw new TscError('IMAGE_AUTH', `registry ${this.ref.endpoint} refused ${this.verb} access to ${this.image} (HTTP ${res.status})`, {
          hint: this.creds
            ? 'check the credentials for this registry in ~/.docker/config.json'
            : 'the image may not exist or may be private: check the name, or add credentials to ~/.docker/config.json',
        });
      }
      if (res.status === 429) {
        await res.body?.cancel();
        throw new TscError(
          'IMAGE_REGISTRY',
          `registry ${this.ref.endpoint} is rate-limiting ${this.verb === 'pull' ? 'pulls' : 'pushes'} of ${this.image} (HTTP 429)`,
          {
            hint: 'wait and try again, or log in to raise the limit',
          },
        );
      }
      if (!res.ok && res.status !== 404 && !(init.allowRangeError && res.status === 416)) {
        const text = (await res.text().catch(() => '')).slice(0, 200).trim();
        throw new TscError(
          'IMAGE_REGISTRY',
          `registry ${this.ref.endpoint} answered HTTP ${res.status} to ${method} for ${this.image}${text ? `: ${text}` : ''}`,
        );
      }
      return res;
    }
  }

  async manifest(reference: string): Promise<Fetched> {
    const res = await this.request('GET', `${this.base}/manifests/${reference}`, { accept: ACCEPT });
    if (res.status === 404) {
      await res.body?.cancel();
      throw new TscError(
        'IMAGE_NOT_FOUND',
        `image ${this.image} not found: registry ${this.ref.endpoint} has no manifest "${reference}" for ${this.ref.path}`,
        {
          hint: 'check the image name and tag',
        },
      );
    }
    let body: Buffer;
    try {
      body = Buffer.from(await res.arrayBuffer());
    } catch (e) {
      throw this.unreachable(e);
    }
    if (body.length > 4 * 1024 * 1024) throw new TscError('IMAGE_REGISTRY', `manifest of ${this.image} is larger than 4 MiB`);
    const mediaType = (res.headers.get('content-type') ?? '').split(';')[0].trim();
    return { body, mediaType, digest: res.headers.get('docker-content-digest') ?? undefined };
  }

  /** The blob's bytes as a stream. `from` asks for a byte range (resuming). */
  async blob(digest: string, from = 0): Promise<{ stream: AsyncIterable<Buffer>; partial: boolean }> {
    const res = await this.request('GET', `${this.base}/blobs/${digest}`, { headers: from > 0 ? { range: `bytes=${from}-` } : {}, allowRangeError: from > 0 });
    if (res.status === 416) {
      // the kept part is not a prefix the registry can continue: start over
      await res.body?.cancel();
      return this.blob(digest, 0);
    }
    if (res.status === 404) {
      await res.body?.cancel();
      throw new TscError('IMAGE_NOT_FOUND', `blob ${digest} of ${this.image} not found in registry ${this.ref.endpoint}`);
    }
    if (!res.body) throw new TscError('IMAGE_REGISTRY', `registry ${this.ref.endpoint} sent no body for blob ${digest} of ${this.image}`);
    const stream = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    const unreachable = (e: unknown) => this.unreachable(e);
    async function* wrapped(): AsyncGenerator<Buffer> {
      try {
        for await (const c of stream) yield c as Buffer;
      } catch (e) {
        throw unreachable(e);
      }
    }
    return { stream: wrapped(), partial: res.status === 206 };
  }
}
