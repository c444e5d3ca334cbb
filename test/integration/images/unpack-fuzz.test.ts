/**
 * Fuzzing the layer unpacker (src/images/unpack.ts and the tar reader) with hostile and mutated
 * layers (test/fuzz/tar-gen.ts): each either unpacks or fails with a TscError, and nothing is
 * written outside the layer directory (a sibling "outside" directory, the target of every
 * escape attempt, stays exactly as it was). FUZZ_TAR_CASES (default 150), FUZZ_SEED (default 14).
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { TscError } from '../../../src/common/errors.js';
import { unpackLayer } from '../../../src/images/unpack.js';
import { caseSeed, Rng } from '../../fuzz/rng.js';
import { hostileLayer } from '../../fuzz/tar-gen.js';

const seed = Number(process.env.FUZZ_SEED ?? 14);
const cases = Number(process.env.FUZZ_TAR_CASES ?? 150);

async function* chunks(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

describe('layer unpack fuzzing', () => {
  it(`${cases} hostile layers from seed ${seed}: unpacked or refused, never written outside`, async () => {
    const bad: string[] = [];
    const counts = { unpacked: 0, refused: 0 };
    for (let i = 0; i < cases; i++) {
      const base = mkdtempSync(path.join(os.tmpdir(), 'tsc-tarfuzz-'));
      try {
        const dest = path.join(base, 'layer');
        const outside = path.join(base, 'outside');
        mkdirSync(dest);
        mkdirSync(outside);
        writeFileSync(path.join(outside, 'f'), 'sentinel');
        const rng = new Rng(caseSeed(seed, i));
        const tar = hostileLayer(rng, outside);
        try {
          await unpackLayer(chunks(tar, rng.pick([1, 512, 4096, 1 << 20])), dest, `fuzz layer ${i}`);
          counts.unpacked++;
        } catch (e) {
          if (e instanceof TscError && e.code !== 'INTERNAL') {
            counts.refused++;
            if (process.env.FUZZ_VERBOSE) console.log(e.message.slice(0, 120));
          } else bad.push(`seed ${seed} case ${i}: ${String((e as Error)?.stack ?? e).slice(0, 600)}`);
        }
        const top = readdirSync(base).sort().join(',');
        const out = readdirSync(outside).join(',');
        if (top !== 'layer,outside' || out !== 'f' || readFileSync(path.join(outside, 'f'), 'utf8') !== 'sentinel') {
          bad.push(`seed ${seed} case ${i}: written outside the layer: ${base} holds ${top}, outside holds ${out}`);
        }
        if (existsSync('/etc/tsc-fuzz-never')) bad.push(`seed ${seed} case ${i}: wrote /etc/tsc-fuzz-never`);
      } finally {
        rmSync(base, { recursive: true, force: true });
      }
    }
    console.log(`unpack fuzz: seed ${seed}, ${cases} layers: ${counts.unpacked} unpacked, ${counts.refused} refused with a clean error, ${bad.length} bad`);
    expect(bad, bad.join('\n')).toEqual([]);
  }, 600_000);
});
