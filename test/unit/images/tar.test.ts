import { describe, expect, it } from 'vitest';
import { readTar, TarFormatError, type TarEntry } from '../../../src/images/tar.js';
import { tarEntries } from '../../support/images.js';

async function readAll(buf: Buffer, chunk = 777): Promise<{ entry: TarEntry; data: Buffer }[]> {
  async function* chunks(): AsyncGenerator<Buffer> {
    for (let i = 0; i < buf.length; i += chunk) yield buf.subarray(i, i + chunk);
  }
  const out = [];
  for await (const { entry, body } of readTar(chunks())) {
    const parts: Buffer[] = [];
    for await (const c of body) parts.push(c);
    out.push({ entry, data: Buffer.concat(parts) });
  }
  return out;
}

describe('tar reader', () => {
  it('reads files, directories, links, devices, long names and xattrs in any chunking', async () => {
    const long = `dir/${'x'.repeat(150)}/file`;
    const tar = tarEntries([
      { name: 'dir', type: 'dir', mode: 0o750, uid: 5, gid: 6 },
      { name: 'dir/a.txt', type: 'file', data: 'hello', mode: 0o640, mtime: 1234567890 },
      { name: 'dir/big', type: 'file', data: Buffer.alloc(5000, 7) },
      { name: 'dir/ln', type: 'symlink', linkname: 'a.txt' },
      { name: 'dir/hl', type: 'hardlink', linkname: 'dir/a.txt' },
      { name: 'dev/null', type: 'char', mode: 0o666, devmajor: 1, devminor: 3 },
      { name: long, type: 'file', data: 'long', xattrs: { 'user.k': 'v', 'security.capability': Buffer.from([1, 0, 0, 2]) } },
    ]);
    for (const chunk of [1, 100, 512, 777, 1 << 20]) {
      const got = await readAll(tar, chunk);
      expect(got.map((g) => [g.entry.path, g.entry.type])).toEqual([
        ['dir/', 'dir'],
        ['dir/a.txt', 'file'],
        ['dir/big', 'file'],
        ['dir/ln', 'symlink'],
        ['dir/hl', 'hardlink'],
        ['dev/null', 'char'],
        [long, 'file'],
      ]);
      expect(got[0].entry).toMatchObject({ mode: 0o750, uid: 5, gid: 6 });
      expect(got[1].data.toString()).toBe('hello');
      expect(got[1].entry).toMatchObject({ mode: 0o640, mtime: 1234567890, size: 5 });
      expect(got[2].data.equals(Buffer.alloc(5000, 7))).toBe(true);
      expect(got[3].entry.linkname).toBe('a.txt');
      expect(got[4].entry.linkname).toBe('dir/a.txt');
      expect(got[5].entry).toMatchObject({ devmajor: 1, devminor: 3 });
      expect(got[6].data.toString()).toBe('long');
      expect(got[6].entry.xattrs.get('user.k')?.toString()).toBe('v');
      expect([...got[6].entry.xattrs.get('security.capability')!]).toEqual([1, 0, 0, 2]);
    }
  });

  it('skips bodies the consumer does not read', async () => {
    const tar = tarEntries([
      { name: 'a', type: 'file', data: Buffer.alloc(3000, 1) },
      { name: 'b', type: 'file', data: 'b' },
    ]);
    const names = [];
    async function* one(): AsyncGenerator<Buffer> {
      yield tar;
    }
    for await (const { entry } of readTar(one())) names.push(entry.path);
    expect(names).toEqual(['a', 'b']);
  });

  it('rejects a corrupted header and a truncated archive', async () => {
    const tar = tarEntries([{ name: 'a', type: 'file', data: 'abc' }]);
    const bad = Buffer.from(tar);
    bad[0] ^= 0x20;
    await expect(readAll(bad)).rejects.toThrow(TarFormatError);
    await expect(readAll(tar.subarray(0, 700))).rejects.toThrow(TarFormatError);
  });
});

/** One 512-byte ustar header (checksum filled in). */
function header(name: string, typeflag: string, size: number, o: { uid?: number; mtime?: number } = {}): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100, 'ascii');
  h.write(`${(o.uid ?? 0).toString(8).padStart(7, '0')}\0`, 108, 'ascii');
  h.write('0000000\0', 116, 'ascii');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
  h.write(`${(o.mtime ?? 0).toString(8).padStart(11, '0')}\0`, 136, 'ascii');
  h.write(typeflag, 156, 'ascii');
  h.write('ustar\x0000', 257, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

function padded(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

function paxRecords(records: [string, Buffer | string][]): Buffer {
  return Buffer.concat(
    records.map(([k, v]) => {
      const body = Buffer.concat([Buffer.from(` ${k}=`), Buffer.from(v), Buffer.from('\n')]);
      let len = body.length + 1;
      while (String(len).length + body.length !== len) len++;
      return Buffer.concat([Buffer.from(String(len)), body]);
    }),
  );
}

function pax(typeflag: 'x' | 'g', records: [string, Buffer | string][]): Buffer {
  const data = paxRecords(records);
  return Buffer.concat([header('PaxHeader', typeflag, data.length), padded(data)]);
}

function file(name: string, data: string, o: { uid?: number; mtime?: number } = {}): Buffer {
  return Buffer.concat([header(name, '0', data.length, o), padded(Buffer.from(data))]);
}

describe('tar reader on what layers in the wild contain', () => {
  it('keeps binary extended attribute values byte for byte', async () => {
    // a file capability whose bytes are not UTF-8 (cap_setuid is bit 7: 0x80)
    const cap = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0x00, 0x00, 0x00, 0xff, 0xfe, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
    const tar = tarEntries([{ name: 'usr/bin/newuidmap', type: 'file', data: 'x', xattrs: { 'security.capability': cap, 'user.text': 'héllo' } }]);
    const [got] = await readAll(tar);
    expect(got.entry.xattrs.get('security.capability')?.equals(cap)).toBe(true);
    expect(got.entry.xattrs.get('user.text')?.toString('utf8')).toBe('héllo');
  });

  it('applies pax uid, gid and fractional mtime, and global pax records to every later entry', async () => {
    const tar = Buffer.concat([
      pax('g', [['SCHILY.xattr.user.everywhere', 'g']]),
      pax('x', [
        ['uid', '70000'],
        ['gid', '70001'],
        ['mtime', '1700000000.25'],
        ['path', 'a/pax-named'],
      ]),
      file('a/short', 'one', { uid: 1, mtime: 5 }),
      file('b', 'two', { uid: 2, mtime: 6 }),
      Buffer.alloc(1024),
    ]);
    const got = await readAll(tar, 100);
    expect(got.map((g) => g.entry.path)).toEqual(['a/pax-named', 'b']);
    expect(got[0].entry).toMatchObject({ uid: 70000, gid: 70001, mtime: 1700000000.25, size: 3 });
    expect(got[0].data.toString()).toBe('one');
    expect(got[1].entry).toMatchObject({ uid: 2, mtime: 6 });
    expect(got.map((g) => g.entry.xattrs.get('user.everywhere')?.toString())).toEqual(['g', 'g']);
  });

  it('refuses entry types it does not know, and malformed pax records', async () => {
    const sparse = Buffer.concat([header('holes', 'S', 0), Buffer.alloc(1024)]);
    await expect(readAll(sparse)).rejects.toThrow(TarFormatError);
    const badPax = Buffer.concat([header('PaxHeader', 'x', 12), padded(Buffer.from('99 uid=1\n\n\n\n')), file('a', 'a'), Buffer.alloc(1024)]);
    await expect(readAll(badPax)).rejects.toThrow(/malformed pax/);
  });

  it('reads the whole input, blocks after the end marker included, and passes input errors through', async () => {
    const tar = Buffer.concat([file('a', 'abc'), Buffer.alloc(1024), Buffer.alloc(8192)]);
    let given = 0;
    async function* counted(): AsyncGenerator<Buffer> {
      for (let i = 0; i < tar.length; i += 1000) {
        const c = tar.subarray(i, i + 1000);
        given += c.length;
        yield c;
      }
    }
    const names = [];
    for await (const { entry } of readTar(counted())) names.push(entry.path);
    expect(names).toEqual(['a']);
    expect(given).toBe(tar.length);

    const boom = Object.assign(new Error('connection reset'), { code: 'ECONNRESET' });
    async function* failing(): AsyncGenerator<Buffer> {
      yield tar.subarray(0, 600);
      throw boom;
    }
    await expect(
      (async () => {
        for await (const { body } of readTar(failing())) for await (const _ of body) void _;
      })(),
    ).rejects.toBe(boom);
  });
});
