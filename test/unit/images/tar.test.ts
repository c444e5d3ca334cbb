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
