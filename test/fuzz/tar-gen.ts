/**
 * Random and mutated layer tars for the unpacker: entries that try to leave the layer (`../`,
 * absolute paths, a symlink then a file through it, hard links out of the layer, links to the
 * outside directory), device nodes, whiteouts, very long names and xattrs, then bytes flipped,
 * cut or inserted (header fields included), and sometimes gzip.
 */
import { gzipSync } from 'node:zlib';

import { tarEntries, type TarEntrySpec } from '../support/images.js';
import type { Rng } from './rng.js';

/** A layer for a case whose outside directory (which nothing may touch) is `outside`. */
export function hostileLayer(rng: Rng, outside: string): Buffer {
  const names = ['a', 'b', 'dir', 'dir/x', 'lnk', 'lnk/x', 'dir/lnk', 'dir/lnk/evil', '.wh.a', 'dir/.wh..wh..opq', '.wh..', './c', 'e/f/g'];
  const hostileNames = [
    '../escape',
    '../../outside/escape',
    `${outside}/abs`,
    '/etc/tsc-fuzz-never',
    'a/../../outside/x',
    '..',
    '.',
    '',
    'x\0y',
    'n'.repeat(rng.int(100, 5000)),
  ];
  const pick = (): string => (rng.chance(0.06) ? rng.pick(hostileNames) : rng.pick(names));
  const links = [outside, `${outside}/f`, '../outside', '../../', '/', 'dir', 'a', '/proc/self/root', '..'];
  const entries: TarEntrySpec[] = [];
  if (rng.chance(0.25)) {
    // the classic: a symlink, then a file written "through" it
    entries.push({ name: 'lnk', type: 'symlink', linkname: rng.pick([outside, '../outside', '/tmp']) });
    entries.push({ name: 'lnk/evil', type: 'file', data: 'x' });
  }
  for (let n = rng.int(1, 12); n > 0; n--) {
    const type = rng.pick(['file', 'file', 'dir', 'symlink', 'hardlink', 'char', 'block', 'fifo'] as const);
    const e: TarEntrySpec = {
      name: pick(),
      type,
      mode: rng.pick([0o644, 0o755, 0o7777, 0o4755, 0]),
      uid: rng.pick([0, 1000, 65534, 2 ** 21 - 1]),
      gid: rng.pick([0, 100]),
    };
    if (type === 'file') e.data = rng.chance(0.9) ? 'data' : Buffer.alloc(rng.int(0, 70_000), 1);
    if (type === 'symlink' || type === 'hardlink') e.linkname = rng.chance(0.3) ? rng.pick(links) : rng.pick(names);
    if (type === 'char' || type === 'block') {
      e.devmajor = rng.int(0, 300);
      e.devminor = rng.int(0, 300);
    }
    if (rng.chance(0.1))
      e.xattrs = {
        [rng.pick(['user.k', 'trusted.overlay.opaque', 'security.capability', 'user.' + 'k'.repeat(300)])]: rng.chance(0.5)
          ? 'v'
          : Buffer.alloc(rng.int(0, 70_000)),
      };
    entries.push(e);
  }
  let tar: Buffer;
  try {
    tar = tarEntries(entries);
  } catch {
    // a name the tar writer itself refuses: keep the entries it takes
    tar = tarEntries(entries.filter((e) => e.name.length < 100 && !e.name.includes('\0')));
  }
  for (let m = rng.chance(0.5) ? rng.int(1, 8) : 0; m > 0; m--) {
    const i = rng.int(0, Math.max(0, tar.length - 1));
    const k = rng.next();
    if (k < 0.5) tar[i] = rng.int(0, 255);
    else if (k < 0.6) tar = tar.subarray(0, i);
    else if (k < 0.75) tar = Buffer.concat([tar.subarray(0, i), rng.bytes(rng.int(1, 600)), tar.subarray(i)]);
    else {
      // a header number field (mode, uid, size, mtime, checksum) set to a large or odd octal value
      const block = Math.floor(i / 512) * 512;
      const field = rng.pick([100, 108, 116, 124, 136, 148]);
      const value = rng.pick(['77777777777', '00000000000', '99999999999', '\x80\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff', '-1']);
      if (block + field + 12 <= tar.length) Buffer.from(value, 'latin1').copy(tar, block + field);
    }
  }
  return rng.chance(0.3) ? gzipSync(tar) : tar;
}
