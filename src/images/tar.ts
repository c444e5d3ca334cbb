/**
 * A streaming tar reader: POSIX ustar, pax extended headers (path, linkpath, size, ids, mtime,
 * SCHILY.xattr.*) and GNU long names. Image layers are produced by many tools (Docker, buildkit,
 * skopeo, umoci) and all of them stay within this subset. Entries are yielded one at a time with
 * their body as an async iterable that must be consumed (or is skipped) before the next.
 */

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

const BLOCK = 512;

class ByteReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private done = false;
  /** total bytes consumed so far */
  offset = 0;
  constructor(private readonly it: AsyncIterator<Buffer>) {}

  private async fill(n: number): Promise<void> {
    while (this.buffered < n && !this.done) {
      const r = await this.it.next();
      if (r.done) {
        this.done = true;
        break;
      }
      const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as Uint8Array);
      if (b.length === 0) continue;
      this.chunks.push(b);
      this.buffered += b.length;
    }
  }

  /** Exactly n bytes, or fewer only at end of stream. */
  async read(n: number): Promise<Buffer> {
    await this.fill(n);
    const take = Math.min(n, this.buffered);
    const out = this.take(take);
    return out;
  }

  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0];
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      const parts: Buffer[] = [];
      let left = n;
      while (left > 0) {
        const c = this.chunks[0];
        if (c.length <= left) {
          parts.push(c);
          this.chunks.shift();
          left -= c.length;
        } else {
          parts.push(c.subarray(0, left));
          this.chunks[0] = c.subarray(left);
          left = 0;
        }
      }
      out = Buffer.concat(parts, n);
    }
    this.buffered -= n;
    this.offset += n;
    return out;
  }

  /** Up to n bytes, in the chunks they arrived in. */
  async *stream(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.buffered === 0) await this.fill(1);
      if (this.buffered === 0) throw new TarFormatError('unexpected end of archive inside an entry');
      const c = this.take(Math.min(left, this.chunks[0].length));
      left -= c.length;
      yield c;
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.stream(n)) void _;
  }

  /** Drains the rest of the stream (so a digest over all of it can complete). */
  async drain(): Promise<void> {
    this.chunks = [];
    this.buffered = 0;
    while (!this.done) {
      const r = await this.it.next();
      if (r.done) this.done = true;
    }
  }
}

function cstr(b: Buffer, start: number, len: number): string {
  const s = b.subarray(start, start + len);
  const z = s.indexOf(0);
  return (z >= 0 ? s.subarray(0, z) : s).toString('utf8');
}

function num(b: Buffer, start: number, len: number): number {
  const s = b.subarray(start, start + len);
  if (s[0] & 0x80) {
    // base-256 (GNU): big-endian two's complement with the top bit as marker
    let v = 0;
    for (let i = 1; i < s.length; i++) v = v * 256 + s[i];
    if (s[0] & 0x40) throw new TarFormatError('negative number in tar header');
    return v + (s[0] & 0x3f) * 256 ** (s.length - 1);
  }
  const t = cstr(s, 0, len).replace(/[ \0]+$/g, '').trim();
  if (t === '') return 0;
  if (!/^[0-7]+$/.test(t)) throw new TarFormatError(`bad octal number "${t}" in tar header`);
  return parseInt(t, 8);
}

function checksumOk(h: Buffer): boolean {
  const stored = num(h, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
  return sum === stored;
}

function parsePax(data: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    const sp = data.indexOf(0x20, pos);
    if (sp < 0) break;
    const len = parseInt(data.subarray(pos, sp).toString('ascii'), 10);
    if (!Number.isFinite(len) || len <= 0 || pos + len > data.length) throw new TarFormatError('malformed pax header');
    const rec = data.subarray(sp + 1, pos + len - 1); // drop trailing \n
    const eq = rec.indexOf(0x3d);
    if (eq < 0) throw new TarFormatError('malformed pax record');
    out.set(rec.subarray(0, eq).toString('utf8'), rec.subarray(eq + 1));
    pos += len;
  }
  return out;
}

const TYPES: Record<string, TarEntryType> = {
  '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo',
};

export interface TarItem {
  entry: TarEntry;
  body: AsyncIterable<Buffer>;
}

/**
 * Yields the entries of a tar stream. After the end-of-archive marker the rest of the input is
 * drained so that a digest computed over the input sees every byte.
 */
export async function* readTar(input: AsyncIterable<Buffer>): AsyncGenerator<TarItem> {
  const r = new ByteReader(input[Symbol.asyncIterator]());
  let globalPax = new Map<string, Buffer>();
  let pax: Map<string, Buffer> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const h = await r.read(BLOCK);
    if (h.length === 0) return; // no end marker: accept a cleanly ended stream
    if (h.length < BLOCK) throw new TarFormatError('archive ends inside a header');
    if (h.every((x) => x === 0)) {
      await r.drain();
      return;
    }
    if (!checksumOk(h)) throw new TarFormatError(`bad header checksum at byte ${r.offset - BLOCK}`);
    const flag = String.fromCharCode(h[156]);
    let size = num(h, 124, 12);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (size > 16 * 1024 * 1024) throw new TarFormatError('extended header larger than 16 MiB');
      const data = await r.read(padded);
      if (data.length < padded) throw new TarFormatError('archive ends inside an extended header');
      const body = data.subarray(0, size);
      if (flag === 'x') pax = new Map([...(pax ?? []), ...parsePax(body)]);
      else if (flag === 'g') globalPax = new Map([...globalPax, ...parsePax(body)]);
      else if (flag === 'L') longName = cstr(body, 0, body.length);
      else longLink = cstr(body, 0, body.length);
      continue;
    }
    const type = TYPES[flag];
    if (!type) throw new TarFormatError(`unsupported tar entry type "${flag}" for ${cstr(h, 0, 100)}`);
    const magic = h.subarray(257, 263).toString('latin1');
    let name = cstr(h, 0, 100);
    if (magic === 'ustar\0') {
      const prefix = cstr(h, 345, 155);
      if (prefix) name = `${prefix}/${name}`;
    }
    const linkname = cstr(h, 157, 100);
    const p = new Map([...globalPax, ...(pax ?? [])]);
    const entry: TarEntry = {
      path: longName ?? name,
      type,
      mode: num(h, 100, 8) & 0o7777,
      uid: num(h, 108, 8),
      gid: num(h, 116, 8),
      size,
      mtime: num(h, 136, 12),
      linkname: longLink ?? linkname,
      devmajor: type === 'char' || type === 'block' ? num(h, 329, 8) : 0,
      devminor: type === 'char' || type === 'block' ? num(h, 337, 8) : 0,
      xattrs: new Map(),
    };
    for (const [k, v] of p) {
      if (k === 'path') entry.path = v.toString('utf8');
      else if (k === 'linkpath') entry.linkname = v.toString('utf8');
      else if (k === 'size') size = entry.size = parseInt(v.toString('ascii'), 10);
      else if (k === 'uid') entry.uid = parseInt(v.toString('ascii'), 10);
      else if (k === 'gid') entry.gid = parseInt(v.toString('ascii'), 10);
      else if (k === 'mtime') entry.mtime = parseFloat(v.toString('ascii'));
      else if (k.startsWith('SCHILY.xattr.')) entry.xattrs.set(k.slice('SCHILY.xattr.'.length), v);
    }
    pax = undefined;
    longName = undefined;
    longLink = undefined;
    // only regular files carry data; links, directories and devices have none whatever size says
    const dataSize = type === 'file' ? size : 0;
    if (type !== 'file') entry.size = 0;
    let got = 0;
    const body: AsyncIterable<Buffer> = {
      async *[Symbol.asyncIterator]() {
        for await (const c of r.stream(dataSize - got)) {
          got += c.length;
          yield c;
        }
      },
    };
    yield { entry, body };
    if (got < dataSize) await r.skip(dataSize - got);
    const padding = Math.ceil(dataSize / BLOCK) * BLOCK - dataSize;
    if (padding > 0) await r.skip(padding);
  }
}
