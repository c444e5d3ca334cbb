/**
 * The upload side of the OCI distribution API, over RegistryClient's authenticated requests:
 * blob existence (HEAD), cross-repository mount (POST ?mount=&from=), monolithic upload (POST
 * then one PUT) for blobs up to the chunk size and chunked upload (PATCH with Content-Range,
 * then PUT) for larger ones, and the manifest PUT. Bodies are read from the blob store one chunk
 * at a time, so memory stays bounded by the chunk size.
 */
import { open } from 'node:fs/promises';

import { TscError } from '../common/errors.js';
import type { RegistryClient } from './registry.js';

/** The registry's first error ("NAME_UNKNOWN: repository name not known to registry"), if any. */
async function registryWhy(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const first = (JSON.parse(text) as { errors?: { code?: string; message?: string }[] }).errors?.[0];
    if (first) return [first.code, first.message].filter(Boolean).join(': ');
  } catch {
    /* not JSON */
  }
  return text.slice(0, 200).trim();
}

export class BlobUploader {
  constructor(
    private readonly client: RegistryClient,
    /** blobs larger than this go up in PATCH chunks of this size */
    private readonly chunkSize: number,
  ) {}

  private get what(): string {
    return this.client.ref.normalized;
  }

  private get endpoint(): string {
    return this.client.ref.endpoint;
  }

  private async fail(res: Response, doing: string): Promise<TscError> {
    const why = await registryWhy(res);
    if (res.status === 404) {
      return new TscError('IMAGE_REGISTRY', `registry ${this.endpoint} has no repository ${this.client.ref.path} (HTTP 404 ${doing}${why ? `: ${why}` : ''})`, {
        hint: 'check the name, or create the repository on the registry first',
      });
    }
    return new TscError('IMAGE_REGISTRY', `registry ${this.endpoint} answered HTTP ${res.status} ${doing} for ${this.what}${why ? `: ${why}` : ''}`);
  }

  private location(res: Response, doing: string): URL {
    const loc = res.headers.get('location');
    if (!loc) throw new TscError('IMAGE_REGISTRY', `registry ${this.endpoint} gave no upload location ${doing} for ${this.what}`);
    return new URL(loc, this.client.base);
  }

  /** Whether the repository already has the blob. */
  async exists(digest: string): Promise<boolean> {
    const res = await this.client.request('HEAD', `${this.client.base}/blobs/${digest}`);
    await res.body?.cancel();
    return res.ok;
  }

  /**
   * Starts an upload; with `from`, asks the registry to mount the blob from that repository
   * instead. Returns 'mounted', or the upload's location (a registry that cannot mount starts an
   * ordinary upload).
   */
  async start(digest: string, from?: string): Promise<'mounted' | URL> {
    const q = from ? `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}` : '';
    const doing = from ? `mounting ${digest} from ${from}` : `starting the upload of ${digest}`;
    const res = await this.client.request('POST', `${this.client.base}/blobs/uploads/${q}`, { headers: { 'content-length': '0' } });
    if (from && res.status === 201) {
      await res.body?.cancel();
      return 'mounted';
    }
    if (res.status !== 202) throw await this.fail(res, doing);
    await res.body?.cancel();
    return this.location(res, doing);
  }

  /** Uploads the file `path` (the blob `digest`, `size` bytes) to an upload started at `at`. */
  async upload(at: URL, path: string, digest: string, size: number, onBytes: (n: number) => void): Promise<void> {
    const fh = await open(path, 'r');
    try {
      const read = async (pos: number, n: number): Promise<Buffer> => {
        const buf = Buffer.allocUnsafe(n);
        const { bytesRead } = await fh.read(buf, 0, n, pos);
        if (bytesRead !== n) throw new TscError('STATE_CORRUPT', `blob ${digest} is shorter than its ${size} bytes`);
        return buf;
      };
      let url = at;
      let last: Buffer | undefined;
      if (size <= this.chunkSize) last = await read(0, size);
      else {
        for (let pos = 0; pos < size; pos += this.chunkSize) {
          const n = Math.min(this.chunkSize, size - pos);
          const doing = `uploading bytes ${pos}-${pos + n - 1} of ${digest}`;
          const res = await this.client.request('PATCH', url.href, {
            headers: { 'content-type': 'application/octet-stream', 'content-range': `${pos}-${pos + n - 1}` },
            body: await read(pos, n),
          });
          if (res.status !== 202) throw await this.fail(res, doing);
          await res.body?.cancel();
          url = this.location(res, doing);
          onBytes(n);
        }
      }
      url.searchParams.set('digest', digest);
      const res = await this.client.request('PUT', url.href, {
        headers: { 'content-type': 'application/octet-stream' },
        body: last ?? Buffer.alloc(0),
      });
      if (res.status !== 201) throw await this.fail(res, `finishing the upload of ${digest}`);
      await res.body?.cancel();
      if (last) onBytes(size);
    } finally {
      await fh.close();
    }
  }

  /** PUTs the manifest under `tag`; returns the digest the registry stored it under. */
  async putManifest(tag: string, body: Buffer, mediaType: string): Promise<string | undefined> {
    const res = await this.client.request('PUT', `${this.client.base}/manifests/${tag}`, { headers: { 'content-type': mediaType }, body });
    if (res.status !== 201 && res.status !== 200) throw await this.fail(res, `storing the manifest of ${this.what}`);
    await res.body?.cancel();
    return res.headers.get('docker-content-digest') ?? undefined;
  }
}
