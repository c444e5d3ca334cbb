/**
 * Reading untrusted tar streams (image layers and image archives) with the `tar-stream` library:
 * it does the framing (header checksums, octal and base-256 numbers, ustar prefixes, GNU long
 * names, pax path/linkpath/size, bodies and padding). This module turns its entries into the
 * small TarEntry the unpackers use and adds what tar-stream leaves out:
 *
 * - pax uid, gid and mtime (fractional), and SCHILY.xattr.* as raw bytes. tar-stream decodes pax
 *   values as UTF-8, which corrupts binary xattrs such as security.capability, so the raw pax
 *   records are taken as tar-stream reads them (see keepRawPax) and split here.
 * - global pax headers apply to every later entry, as POSIX says.
 * - only regular files carry data: a link, directory or device reports size 0 and no body.
 * - entry types tar-stream does not know (sparse, volume headers...) are refused.
 *
 * Entries are yielded one at a time with their body as an async iterable; a body the consumer
 * does not read is skipped. The whole input is consumed (zero blocks after the end marker
 * included) so that a digest computed over it sees every byte.
 */
import { extract as tarExtract, type Extract, type Header } from 'tar-stream';

export type TarEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

export interface TarEntry {
  path: string;
  type: TarEntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** seconds since the epoch (fractional with pax) */
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs: Map<string, Buffer>;
}

export class TarFormatError extends Error {}

export interface TarItem {
  entry: TarEntry;
  body: AsyncIterable<Buffer>;
}

const TYPES: Partial<Record<string, TarEntryType>> = {
  file: 'file',
  'contiguous-file': 'file',
  link: 'hardlink',
  symlink: 'symlink',
  directory: 'dir',
  'character-device': 'char',
  'block-device': 'block',
  fifo: 'fifo',
};

const XATTR = 'SCHILY.xattr.';

/** Splits pax extended header records ("LEN key=value\n"), keeping values as bytes. */
function parsePax(data: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    if (data[pos] === 0) break; // NUL padding after the last record
    const sp = data.indexOf(0x20, pos);
    if (sp < 0) throw new TarFormatError('malformed pax header');
    const len = Number(data.subarray(pos, sp).toString('ascii'));
    if (!Number.isSafeInteger(len) || len <= sp - pos + 1 || pos + len > data.length || data[pos + len - 1] !== 0x0a) {
      throw new TarFormatError('malformed pax header');
    }
    const rec = data.subarray(sp + 1, pos + len - 1); // drop the trailing \n
    const eq = rec.indexOf(0x3d);
    if (eq < 0) throw new TarFormatError('malformed pax record');
    out.set(rec.subarray(0, eq).toString('utf8'), Buffer.from(rec.subarray(eq + 1))); // a copy: the input's buffers are not ours
    pos += len;
  }
  return out;
}

/** What tar-stream's extractor does internally with a pax or GNU long header's body. */
interface ExtractInternals {
  _header: { type: string | null } | null;
  _decodeLongHeader(buf: Buffer): unknown;
}

/**
 * Keeps the raw bytes of the pax headers tar-stream reads (it exposes them only decoded as
 * UTF-8). Pinned to tar-stream 3.x; if its internals change, `take()` says so by returning
 * undefined and the caller falls back to tar-stream's decoded values where they are lossless.
 */
function keepRawPax(ex: Extract): { take(hasPax: boolean): Map<string, Buffer> | undefined } {
  const internals = ex as unknown as ExtractInternals;
  const decode = internals._decodeLongHeader;
  if (typeof decode !== 'function') return { take: () => undefined };
  let global = new Map<string, Buffer>();
  let local: Map<string, Buffer> | undefined;
  internals._decodeLongHeader = function (this: ExtractInternals, buf: Buffer): unknown {
    const type = this._header?.type;
    const bytes = Buffer.isBuffer(buf) ? buf : Buffer.from(buf);
    if (type === 'pax-header') local = parsePax(bytes);
    else if (type === 'pax-global-header') global = new Map([...global, ...parsePax(bytes)]);
    return decode.call(this, buf);
  };
  return {
    take(hasPax) {
      // tar-stream gave the entry pax values that did not pass through the hook: internals changed
      if (hasPax && local === undefined) return undefined;
      const out = new Map([...global, ...(local ?? [])]);
      local = undefined;
      return out;
    },
  };
}

function int(v: Buffer | string | undefined, fallback: number, field: string, name: string): number {
  if (v === undefined) return fallback;
  const s = v.toString().trim();
  if (!/^\d+$/.test(s)) throw new TarFormatError(`bad pax ${field} "${s}" for ${name}`);
  return Number(s);
}

function checkNumber(n: number, field: string, name: string): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new TarFormatError(`bad ${field} in the tar header of ${name}`);
  return n;
}

function toEntry(h: Header, raw: Map<string, Buffer> | undefined): TarEntry {
  const type = TYPES[h.type ?? ''];
  if (!type) throw new TarFormatError(`unsupported tar entry type "${h.type ?? 'unknown'}" for ${h.name}`);
  const decoded = (h.pax ?? {}) as Record<string, string>;
  const pax = raw ?? new Map(Object.entries(decoded).map(([k, v]) => [k, Buffer.from(v, 'utf8')]));
  if (!raw) {
    // tar-stream's internals changed (see keepRawPax): its UTF-8 values are exact unless a byte
    // was not UTF-8, which is the one case that must not be guessed
    for (const [k, v] of Object.entries(decoded)) {
      if (k.startsWith(XATTR) && v.includes('\uFFFD'))
        throw new TarFormatError(`cannot read the binary extended attribute ${k.slice(XATTR.length)} of ${h.name}`);
    }
  }
  const name = h.name;
  const mtimePax = pax.get('mtime')?.toString().trim();
  let mtime = h.mtime instanceof Date ? h.mtime.getTime() / 1000 : NaN;
  if (mtimePax !== undefined) {
    if (!/^-?\d+(\.\d+)?$/.test(mtimePax)) throw new TarFormatError(`bad pax mtime "${mtimePax}" for ${name}`);
    mtime = Number(mtimePax);
  }
  if (!Number.isFinite(mtime)) throw new TarFormatError(`bad mtime in the tar header of ${name}`);
  const device = type === 'char' || type === 'block';
  const entry: TarEntry = {
    path: name,
    type,
    mode: checkNumber(h.mode, 'mode', name) & 0o7777,
    uid: int(pax.get('uid'), checkNumber(h.uid, 'uid', name), 'uid', name),
    gid: int(pax.get('gid'), checkNumber(h.gid, 'gid', name), 'gid', name),
    // only regular files carry data; links, directories and devices have none whatever size says
    size: type === 'file' ? checkNumber(h.size, 'size', name) : 0,
    mtime,
    linkname: h.linkname ?? '',
    devmajor: device ? checkNumber(h.devmajor, 'devmajor', name) : 0,
    devminor: device ? checkNumber(h.devminor, 'devminor', name) : 0,
    xattrs: new Map(),
  };
  for (const [k, v] of pax) if (k.startsWith(XATTR)) entry.xattrs.set(k.slice(XATTR.length), v);
  return entry;
}

const MESSAGES: Record<string, string> = {
  'Unexpected end of data': 'the archive is truncated',
  'Invalid tar header. Maybe the tar is corrupted or it needs to be gunzipped?': 'bad header checksum',
  'Header exceeds max size': 'extended header larger than 4 MiB',
  'Invalid header': 'bad header',
};

/**
 * Yields the entries of a tar stream. Errors of the input are thrown as they are; a malformed
 * archive throws TarFormatError.
 */
export async function* readTar(input: AsyncIterable<Buffer>): AsyncGenerator<TarItem> {
  // allowUnknownFormat: pre-POSIX (v7) headers have no magic; their checksum is still verified
  const ex = tarExtract({ allowUnknownFormat: true } as Parameters<typeof tarExtract>[0]);
  const rawPax = keepRawPax(ex);
  let inputFailed = false;
  let inputError: unknown;
  const translate = (e: unknown): unknown => {
    if (inputFailed) return inputError;
    if (e instanceof TarFormatError) return e;
    const msg = (e as Error)?.message ?? String(e);
    return new TarFormatError(MESSAGES[msg] ?? msg);
  };
  const pump = (async (): Promise<void> => {
    try {
      for await (const c of input) {
        if (ex.destroyed) return;
        if (!ex.write(c)) {
          if (ex.destroying || ex.destroyed) return;
          await new Promise<void>((resolve) => {
            const done = (): void => {
              ex.off('drain', done);
              ex.off('close', done);
              resolve();
            };
            ex.on('drain', done);
            ex.on('close', done);
          });
        }
      }
      ex.end(undefined);
    } catch (e) {
      inputFailed = true;
      inputError = e;
      ex.destroy(e as Error);
    }
  })();
  const entries = ex[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      let r: Awaited<ReturnType<typeof entries.next>>;
      try {
        r = await entries.next();
      } catch (e) {
        throw translate(e);
      }
      if (r.done) break;
      const src = r.value;
      const entry = toEntry(src.header, rawPax.take(src.header.pax != null));
      // tar-stream streams a body for every entry with a size except directories; drain it even
      // when the entry is not a file (its bytes are not given to the consumer)
      const hasData = src.header.size > 0 && src.header.type !== 'directory';
      const it = hasData ? src[Symbol.asyncIterator]() : undefined;
      let drained = !hasData;
      const next = async (): Promise<Buffer | undefined> => {
        try {
          const c = await it!.next();
          if (c.done) {
            drained = true;
            return undefined;
          }
          return c.value as Buffer;
        } catch (e) {
          throw translate(e);
        }
      };
      const body: AsyncIterable<Buffer> = {
        async *[Symbol.asyncIterator]() {
          if (entry.type !== 'file') return;
          for (let c = drained ? undefined : await next(); c !== undefined; c = await next()) yield c;
        },
      };
      yield { entry, body };
      while (!drained) await next();
    }
    finished = true;
    await pump;
    if (inputFailed) throw inputError;
  } finally {
    // the consumer stopped early or the archive is bad: the pump sees the stream destroyed
    if (!finished) ex.destroy(null);
  }
}
