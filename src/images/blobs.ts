/**
 * Content-addressed blob store: blobs/sha256/<hex>. A blob is written to blobs/tmp/ while its
 * digest is computed, checked against the expected digest and size, then renamed into place, so
 * a blob under its name is always complete and correct. Temporary files carry the writer's pid,
 * so leftovers of a killed process are recognised and removed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';

import { TscError } from '../common/errors.js';
import { fsFailure } from './errors.js';
import { isPidAlive } from '../common/process.js';
import { faultPoint, faultWrite } from '../sys/fault.js';

const DIGEST = /^sha256:([a-f0-9]{64})$/;

/** Returns the hex part of a sha256 digest, or throws (digests become file names). */
export function digestHex(digest: string, what = 'digest'): string {
  const m = DIGEST.exec(digest);
  if (!m) {
    throw new TscError('IMAGE_DIGEST', `${what} "${digest}" is not a sha256 digest`, {
      hint: 'tscompose supports sha256 content digests only',
    });
  }
  return m[1];
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export interface WriteOptions {
  /** bytes the descriptor says the blob has */
  size?: number;
  /** called with the number of new bytes after each chunk */
  onBytes?: (n: number) => void;
  /** names the blob in error messages */
  what: string;
  /** sees every chunk (from the first byte) before it is written, e.g. to unpack while downloading */
  tee?: (chunk: Buffer) => Promise<void>;
  /** told how many bytes of an interrupted download are kept */
  onResume?: (kept: number) => void;
}

export class BlobStore {
  readonly dir: string;
  readonly tmpDir: string;
  constructor(dir: string) {
    this.dir = path.join(dir, 'sha256');
    this.tmpDir = path.join(dir, 'tmp');
  }

  path(digest: string): string {
    return path.join(this.dir, digestHex(digest));
  }

  has(digest: string): boolean {
    return existsSync(this.path(digest));
  }

  read(digest: string): Buffer {
    return readFileSync(this.path(digest));
  }

  size(digest: string): number {
    try {
      return statSync(this.path(digest)).size;
    } catch {
      return 0;
    }
  }

  list(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((n) => /^[a-f0-9]{64}$/.test(n))
      .map((n) => `sha256:${n}`);
  }

  /** Moves a blob out of the store (a quick rename); returns where it went, for deletion. */
  detach(digest: string): string | undefined {
    if (!this.has(digest)) return undefined;
    mkdirSync(this.tmpDir, { recursive: true });
    const doomed = path.join(this.tmpDir, `${digestHex(digest)}.rm.${randomBytes(4).toString('hex')}`);
    try {
      renameSync(this.path(digest), doomed);
      return doomed;
    } catch {
      return undefined;
    }
  }

  remove(digest: string): void {
    rmSync(this.path(digest), { force: true });
  }

  private tempName(hex: string): string {
    mkdirSync(this.tmpDir, { recursive: true });
    mkdirSync(this.dir, { recursive: true });
    return path.join(this.tmpDir, `${hex}.${process.pid}.${randomBytes(4).toString('hex')}`);
  }

  /** Streams `source` into the store, verifying digest (and size when given) before it appears. */
  async write(digest: string, source: AsyncIterable<Buffer | Uint8Array> | Iterable<Buffer>, opts: WriteOptions): Promise<string> {
    const hex = digestHex(digest, `digest of ${opts.what}`);
    const tmp = this.tempName(hex);
    const h = createHash('sha256');
    let n = 0;
    try {
      const fh = await open(tmp, 'wx', 0o644);
      try {
        faultWrite(tmp);
        for await (const chunk of source) {
          const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
          h.update(b);
          n += b.length;
          if (opts.size !== undefined && n > opts.size) {
            throw new TscError('IMAGE_DIGEST', `${opts.what} is larger than the ${opts.size} bytes its descriptor says; refusing it`);
          }
          if (opts.tee) await opts.tee(b);
          await fh.write(b);
          if (n === b.length) faultPoint(`first bytes of blob ${digest}`);
          opts.onBytes?.(b.length);
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
      const got = `sha256:${h.digest('hex')}`;
      if (got !== digest) {
        throw new TscError('IMAGE_DIGEST', `${opts.what} does not match its digest: expected ${digest}, got ${got}`, {
          hint: 'the content was corrupted or tampered with; nothing was stored',
        });
      }
      if (opts.size !== undefined && n !== opts.size) {
        throw new TscError('IMAGE_DIGEST', `${opts.what} has ${n} bytes but its descriptor says ${opts.size}`);
      }
      renameSync(tmp, this.path(digest));
      faultPoint(`commit blob ${digest}`);
      this.removeDeadPartials(hex);
      return this.path(digest);
    } catch (e) {
      rmSync(tmp, { force: true });
      throw fsFailure(e, `storing ${opts.what}`);
    }
  }

  /**
   * Downloads a blob through `open(from)`, resuming from a partial file that a killed process
   * left behind when the source honours the byte offset (`partial: true`). The digest covers the
   * whole blob, kept bytes included, so a resumed blob is verified like any other.
   */
  async download(digest: string, open: (from: number) => Promise<{ stream: AsyncIterable<Buffer>; partial: boolean }>, opts: WriteOptions): Promise<string> {
    const hex = digestHex(digest, `digest of ${opts.what}`);
    const adopted = this.adoptPartial(hex);
    if (!adopted) return this.write(digest, await open(0).then((r) => r.stream), opts);
    let keep = statSync(adopted).size;
    if (opts.size !== undefined && keep > opts.size) keep = 0;
    let stream: AsyncIterable<Buffer> = (async function* () {})();
    if (opts.size === undefined || keep < opts.size) {
      const r = await open(keep);
      stream = r.stream;
      if (!r.partial) keep = 0;
    }
    if (keep > 0) opts.onResume?.(keep);
    async function* whole(): AsyncGenerator<Buffer> {
      if (keep > 0) {
        for await (const c of createReadStream(adopted!, { start: 0, end: keep - 1 })) yield c as Buffer;
      }
      yield* stream;
    }
    try {
      let resumed = 0;
      return await this.write(digest, whole(), {
        ...opts,
        onBytes: (n) => {
          // bytes re-read from the partial file count as already downloaded
          if (resumed < keep) {
            const k = Math.min(n, keep - resumed);
            resumed += k;
            n -= k;
            opts.onBytes?.(k);
          }
          if (n > 0) opts.onBytes?.(n);
        },
      });
    } finally {
      rmSync(adopted, { force: true });
    }
  }

  /**
   * Partial writes of `hex` left by processes that are gone, once the blob is stored: a killed
   * write that no download resumes (a config or manifest) would otherwise stay until prune.
   */
  private removeDeadPartials(hex: string): void {
    for (const n of readdirSync(this.tmpDir)) {
      const [h, pidS] = n.split('.');
      const pid = Number(pidS);
      if (h === hex && Number.isInteger(pid) && pid !== process.pid && !isPidAlive(pid)) rmSync(path.join(this.tmpDir, n), { force: true });
    }
  }

  /** Takes over a partial download of `hex` left by a process that is gone. */
  private adoptPartial(hex: string): string | undefined {
    if (!existsSync(this.tmpDir)) return undefined;
    for (const n of readdirSync(this.tmpDir)) {
      const [h, pidS] = n.split('.');
      const pid = Number(pidS);
      if (h !== hex || !Number.isInteger(pid) || pid === process.pid || isPidAlive(pid)) continue;
      const mine = this.tempName(hex) + '.resume';
      try {
        renameSync(path.join(this.tmpDir, n), mine);
        return mine;
      } catch {
        continue;
      }
    }
    return undefined;
  }

  async writeBuffer(digest: string, data: Buffer, what: string): Promise<string> {
    if (this.has(digest)) return this.path(digest);
    return this.write(digest, [data], { size: data.length, what });
  }

  /** Moves or copies an existing file into the store after checking it (digest computed when not given). */
  async importFile(file: string, what: string, expected?: string): Promise<string> {
    const h = createHash('sha256');
    for await (const c of createReadStream(file)) h.update(c as Buffer);
    const got = `sha256:${h.digest('hex')}`;
    if (expected !== undefined && got !== expected) {
      throw new TscError('IMAGE_DIGEST', `${what} does not match its digest: expected ${expected}, got ${got}`, {
        hint: 'the archive is corrupted or was modified; nothing was stored',
      });
    }
    if (!this.has(got)) {
      const tmp = this.tempName(digestHex(got));
      try {
        renameSync(file, tmp);
        renameSync(tmp, this.path(got));
        faultPoint(`commit blob ${got}`);
      } catch (e) {
        rmSync(tmp, { force: true });
        throw fsFailure(e, `storing ${what}`);
      }
    }
    return got;
  }

  /** Removes temporary files left by processes that no longer run. Returns bytes freed. */
  cleanTemp(): number {
    if (!existsSync(this.tmpDir)) return 0;
    let freed = 0;
    for (const n of readdirSync(this.tmpDir)) {
      // <hex>.<pid>.<rand> of a writer still running (this one included) stays; .rm. files go
      const pid = Number(n.split('.')[1]);
      if (pid === process.pid || (Number.isInteger(pid) && isPidAlive(pid))) continue;
      const p = path.join(this.tmpDir, n);
      try {
        freed += statSync(p).size;
      } catch {
        /* already gone */
      }
      rmSync(p, { force: true, recursive: true });
    }
    return freed;
  }
}
