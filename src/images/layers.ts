/**
 * Layer store: layers/<diff-id hex>/diff holds one unpacked layer, layers/<hex>/layer.json its
 * diff_id and size. A layer is unpacked into layers/tmp/<hex>.<pid>.<rand>/ and renamed into
 * place only after its diff_id has been verified, so a layer directory under its name is always
 * complete. Two writers racing for the same layer both succeed; the second discards its copy.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

import { TscError } from '../common/errors.js';
import { writeFileAtomicSync } from '../sys/files.js';
import { digestHex } from './blobs.js';
import { isPidAlive } from '../common/process.js';
import { unpackLayer } from './unpack.js';
import { fsFailure } from './errors.js';
import { faultPoint, faultWrite } from '../sys/fault.js';

export interface LayerInfo {
  diffId: string;
  size: number;
}

const layerInfo = z.object({ diffId: z.string(), size: z.number().nonnegative() });

export class LayerStore {
  readonly dir: string;
  readonly tmpDir: string;
  constructor(dir: string) {
    this.dir = dir;
    this.tmpDir = path.join(dir, 'tmp');
  }

  /** The directory overlayfs uses as a lowerdir for this layer. */
  diffDir(diffId: string): string {
    return path.join(this.dir, digestHex(diffId, 'layer diff_id'), 'diff');
  }

  has(diffId: string): boolean {
    return existsSync(path.join(this.dir, digestHex(diffId, 'layer diff_id'), 'layer.json'));
  }

  /** The layer's diff_id and size from its layer.json; undefined when absent or unreadable. */
  info(diffId: string): LayerInfo | undefined {
    try {
      const r = layerInfo.safeParse(JSON.parse(readFileSync(path.join(this.dir, digestHex(diffId), 'layer.json'), 'utf8')));
      return r.success ? r.data : undefined;
    } catch {
      return undefined;
    }
  }

  list(): string[] {
    if (!existsSync(this.dir)) return [];
    return readdirSync(this.dir)
      .filter((n) => /^[a-f0-9]{64}$/.test(n))
      .map((n) => `sha256:${n}`);
  }

  /**
   * Unpacks the blob (a file, or a stream while it downloads) and checks that its uncompressed digest is `diffId`. Idempotent: returns at
   * once when the layer is already present.
   */
  async create(diffId: string, source: string | AsyncIterable<Buffer>, what: string): Promise<LayerInfo> {
    const hex = digestHex(diffId, `diff_id of ${what}`);
    const existing = this.info(diffId);
    if (existing && this.has(diffId)) return existing;
    // layers hold setuid files and device nodes of images: only root may walk into them
    if (!existsSync(this.dir)) mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    mkdirSync(this.tmpDir, { recursive: true });
    await this.removeDeadTemps();
    const tmp = path.join(this.tmpDir, `${hex}.${process.pid}.${randomBytes(4).toString('hex')}`);
    try {
      mkdirSync(path.join(tmp, 'diff'), { recursive: true, mode: 0o755 });
      faultPoint(`unpack layer ${hex} into ${tmp}`);
      faultWrite(path.join(tmp, 'diff'));
      const res = await unpackLayer(source, path.join(tmp, 'diff'), what);
      if (res.diffId !== diffId) {
        throw new TscError('IMAGE_DIGEST', `${what} unpacks to content ${res.diffId}, but the image config says ${diffId}`, {
          hint: 'the layer was corrupted or tampered with; nothing was stored',
        });
      }
      const info: LayerInfo = { diffId, size: res.size };
      // on disk before the directory is renamed into place: a present layer always has its size
      writeFileAtomicSync(path.join(tmp, 'layer.json'), JSON.stringify(info) + '\n');
      try {
        renameSync(tmp, path.join(this.dir, hex));
        faultPoint(`commit layer ${hex}`);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if ((code === 'ENOTEMPTY' || code === 'EEXIST') && this.has(diffId)) {
          await rm(tmp, { recursive: true, force: true });
          return this.info(diffId) ?? info;
        }
        throw e;
      }
      return info;
    } catch (e) {
      await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      throw fsFailure(e, `unpacking ${what}`);
    }
  }

  /** Half-unpacked layers (<hex>.<pid>.<rand>) of processes that died (a kill during a pull or load). */
  private async removeDeadTemps(): Promise<void> {
    for (const n of readdirSync(this.tmpDir)) {
      const pid = Number(n.split('.')[1]);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !isPidAlive(pid)) await rm(path.join(this.tmpDir, n), { recursive: true, force: true });
    }
  }

  /** Moves a layer out of the store (a quick rename); returns where it went, for deletion. */
  detach(diffId: string): string | undefined {
    const hex = digestHex(diffId);
    const dir = path.join(this.dir, hex);
    if (!existsSync(dir)) return undefined;
    mkdirSync(this.tmpDir, { recursive: true });
    const doomed = path.join(this.tmpDir, `${hex}.rm.${randomBytes(4).toString('hex')}`);
    renameSync(dir, doomed);
    return doomed;
  }

  async remove(diffId: string): Promise<void> {
    const hex = digestHex(diffId);
    const dir = path.join(this.dir, hex);
    if (!existsSync(dir)) return;
    // rename first so a half-removed layer never looks present
    mkdirSync(this.tmpDir, { recursive: true });
    const doomed = path.join(this.tmpDir, `${hex}.rm.${randomBytes(4).toString('hex')}`);
    renameSync(dir, doomed);
    await rm(doomed, { recursive: true, force: true });
  }

  /** Removes unpack directories left by processes that no longer run. */
  async cleanTemp(): Promise<void> {
    if (!existsSync(this.tmpDir)) return;
    for (const n of readdirSync(this.tmpDir)) {
      const pid = Number(n.split('.')[1]);
      if (pid === process.pid || (Number.isInteger(pid) && isPidAlive(pid))) continue;
      await rm(path.join(this.tmpDir, n), { recursive: true, force: true });
    }
  }
}
