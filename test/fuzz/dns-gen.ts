/** Random and mutated DNS messages for the packet parser: valid queries and replies with bytes flipped, cut or repeated, compression loops, and pure noise. */
import { buildQuery, buildResponse, parseQuery, TYPE_A, TYPE_PTR } from '../../src/network/dns-packet.js';
import type { Rng } from './rng.js';

function seedMessage(rng: Rng): Buffer {
  const name = Array.from({ length: rng.int(1, 5) }, () => 'x'.repeat(rng.int(1, 63))).join('.');
  const q = buildQuery(rng.int(0, 65535), name, rng.pick([TYPE_A, TYPE_PTR, 28, 255, 16]));
  if (rng.chance(0.5)) return q;
  const answers = Array.from({ length: rng.int(0, 60) }, () =>
    rng.chance(0.5) ? { type: TYPE_A, ttl: 600, data: `10.0.${rng.int(0, 255)}.${rng.int(0, 255)}` } : { type: TYPE_PTR, ttl: 600, data: `${name}.example` },
  );
  return buildResponse(parseQuery(q), 0, answers);
}

/** One message: noise, a compression loop, or a valid message mutated a few times. */
export function dnsMessage(rng: Rng): Buffer {
  const r = rng.next();
  if (r < 0.1) return rng.bytes(rng.int(0, 600));
  if (r < 0.2) {
    // a header, then a name that points at itself or at a pointer pointing back
    const b = Buffer.alloc(rng.int(14, 40));
    b.writeUInt16BE(rng.int(0, 65535), 0);
    b.writeUInt16BE(rng.int(1, 65535), 4);
    b.writeUInt16BE(rng.int(0, 65535), 6);
    b.writeUInt16BE(0xc000 | rng.pick([12, 14, 0]), 12);
    if (b.length >= 16) b.writeUInt16BE(0xc00c, 14);
    return b;
  }
  let b = seedMessage(rng);
  for (let m = rng.int(1, 6); m > 0; m--) {
    const i = rng.int(0, Math.max(0, b.length - 1));
    const k = rng.next();
    if (k < 0.4) b[i] = rng.int(0, 255);
    else if (k < 0.55) b = b.subarray(0, i);
    else if (k < 0.7) b = Buffer.concat([b.subarray(0, i), rng.bytes(rng.int(1, 8)), b.subarray(i)]);
    else if (k < 0.85 && b.length >= 8) b.writeUInt16BE(rng.pick([0, 1, 2, 255, 65535]), rng.pick([4, 6]));
    else if (b.length > i + 1) b.writeUInt16BE(0xc000 | rng.int(0, b.length), i);
  }
  return b;
}
