/** DNS wire format (RFC 1035): just what a service-discovery resolver needs. */

export const TYPE_A = 1;
export const TYPE_PTR = 12;
export const TYPE_AAAA = 28;
export const TYPE_ANY = 255;
export const CLASS_IN = 1;

export const RCODE_NOERROR = 0;
export const RCODE_FORMERR = 1;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;
export const RCODE_NOTIMP = 4;

export interface Question {
  name: string;
  type: number;
  class: number;
}

export interface Query {
  id: number;
  flags: number;
  opcode: number;
  rd: boolean;
  questions: Question[];
}

export class DnsFormatError extends Error {}

/** Throws DnsFormatError unless `n` bytes from `off` are inside the message. */
function need(buf: Buffer, off: number, n: number, what: string): void {
  if (off < 0 || off + n > buf.length) throw new DnsFormatError(`${what} runs past the message`);
}

/** Reads a possibly compressed name at `off`; returns it (lower-case, no trailing dot) and the offset after it. */
export function readName(buf: Buffer, off: number): { name: string; next: number } {
  const labels: string[] = [];
  let next = -1;
  let jumps = 0;
  for (;;) {
    if (off >= buf.length) throw new DnsFormatError('name runs past the message');
    const len = buf[off];
    if ((len & 0xc0) === 0xc0) {
      if (off + 1 >= buf.length || ++jumps > 16) throw new DnsFormatError('bad compression pointer');
      if (next < 0) next = off + 2;
      off = ((len & 0x3f) << 8) | buf[off + 1];
      continue;
    }
    if (len & 0xc0) throw new DnsFormatError('unsupported label type');
    if (len === 0) {
      if (next < 0) next = off + 1;
      break;
    }
    if (off + 1 + len > buf.length) throw new DnsFormatError('label runs past the message');
    labels.push(buf.toString('latin1', off + 1, off + 1 + len));
    off += 1 + len;
  }
  return { name: labels.join('.').toLowerCase(), next };
}

export function encodeName(name: string): Buffer {
  const parts = name.replace(/\.$/, '').split('.').filter(Boolean);
  const bufs: Buffer[] = [];
  for (const p of parts) {
    const b = Buffer.from(p, 'latin1');
    if (b.length > 63) throw new DnsFormatError(`label too long: ${p}`);
    bufs.push(Buffer.from([b.length]), b);
  }
  bufs.push(Buffer.from([0]));
  return Buffer.concat(bufs);
}

export function parseQuery(buf: Buffer): Query {
  if (buf.length < 12) throw new DnsFormatError('message shorter than a header');
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  if (flags & 0x8000) throw new DnsFormatError('not a query');
  const qd = buf.readUInt16BE(4);
  const questions: Question[] = [];
  let off = 12;
  for (let i = 0; i < qd; i++) {
    const { name, next } = readName(buf, off);
    if (next + 4 > buf.length) throw new DnsFormatError('question runs past the message');
    questions.push({ name, type: buf.readUInt16BE(next), class: buf.readUInt16BE(next + 2) });
    off = next + 4;
  }
  return { id, flags, opcode: (flags >> 11) & 0xf, rd: (flags & 0x0100) !== 0, questions };
}

export interface Answer {
  type: number;
  ttl: number;
  /** an IPv4 address for A, a name for PTR */
  data: string;
}

function ipBytes(ip: string): Buffer {
  return Buffer.from(ip.split('.').map(Number));
}

/** Builds a response echoing the question (name compressed as a pointer to it). */
export function buildResponse(q: Query, rcode: number, answers: Answer[], opts: { ra?: boolean } = {}): Buffer {
  const hdr = Buffer.alloc(12);
  hdr.writeUInt16BE(q.id, 0);
  // QR, opcode copied, AA, RD copied, RA when we forward
  const flags = 0x8000 | (q.opcode << 11) | 0x0400 | (q.rd ? 0x0100 : 0) | (opts.ra ? 0x0080 : 0) | (rcode & 0xf);
  hdr.writeUInt16BE(flags, 2);
  const question = q.questions[0];
  hdr.writeUInt16BE(question ? 1 : 0, 4);
  hdr.writeUInt16BE(question ? answers.length : 0, 6);
  const parts: Buffer[] = [hdr];
  if (question) {
    const qb = Buffer.alloc(4);
    qb.writeUInt16BE(question.type, 0);
    qb.writeUInt16BE(question.class, 2);
    parts.push(encodeName(question.name), qb);
    for (const a of answers) {
      const rdata = a.type === TYPE_A ? ipBytes(a.data) : encodeName(a.data);
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0); // pointer to the question name at offset 12
      rr.writeUInt16BE(a.type, 2);
      rr.writeUInt16BE(CLASS_IN, 4);
      rr.writeUInt32BE(a.ttl, 6);
      rr.writeUInt16BE(rdata.length, 10);
      parts.push(rr, rdata);
    }
  }
  return Buffer.concat(parts);
}

/** A minimal error response when even the question could not be parsed. */
export function formErr(buf: Buffer): Buffer | undefined {
  if (buf.length < 2) return undefined;
  const hdr = Buffer.alloc(12);
  hdr.writeUInt16BE(buf.readUInt16BE(0), 0);
  hdr.writeUInt16BE(0x8000 | RCODE_FORMERR, 2);
  return hdr;
}

/** Parses the A answers of a response (used by tests and by forwarding checks). */
export function parseAnswers(buf: Buffer): { rcode: number; answers: Answer[] } {
  need(buf, 0, 12, 'header');
  const rcode = buf.readUInt16BE(2) & 0xf;
  const qd = buf.readUInt16BE(4);
  const an = buf.readUInt16BE(6);
  let off = 12;
  for (let i = 0; i < qd; i++) off = readName(buf, off).next + 4;
  const answers: Answer[] = [];
  for (let i = 0; i < an; i++) {
    off = readName(buf, off).next;
    need(buf, off, 10, 'answer');
    const type = buf.readUInt16BE(off);
    const ttl = buf.readUInt32BE(off + 4);
    const len = buf.readUInt16BE(off + 8);
    need(buf, off + 10, len, 'answer data');
    const rdata = buf.subarray(off + 10, off + 10 + len);
    const data = type === TYPE_A ? [...rdata].join('.') : type === TYPE_PTR ? readName(buf, off + 10).name : rdata.toString('hex');
    answers.push({ type, ttl, data });
    off += 10 + len;
  }
  return { rcode, answers };
}

export function buildQuery(id: number, name: string, type: number): Buffer {
  const hdr = Buffer.alloc(12);
  hdr.writeUInt16BE(id, 0);
  hdr.writeUInt16BE(0x0100, 2);
  hdr.writeUInt16BE(1, 4);
  const qb = Buffer.alloc(4);
  qb.writeUInt16BE(type, 0);
  qb.writeUInt16BE(CLASS_IN, 2);
  return Buffer.concat([hdr, encodeName(name), qb]);
}

/**
 * Cuts a response built by buildResponse (one question, fixed-size A records or PTR records)
 * to at most `max` bytes of whole records and sets the TC flag.
 */
export function truncateAnswer(reply: Buffer, max: number): Buffer {
  need(reply, 0, 12, 'header');
  const qd = reply.readUInt16BE(4);
  const an = reply.readUInt16BE(6);
  let off = 12;
  for (let i = 0; i < qd; i++) off = readName(reply, off).next + 4;
  need(reply, 0, off, 'question');
  let kept = 0;
  for (let i = 0; i < an; i++) {
    const next = readName(reply, off).next;
    need(reply, next, 10, 'answer');
    const end = next + 10 + reply.readUInt16BE(next + 8);
    if (end > max) break;
    off = end;
    kept++;
  }
  const out = Buffer.from(reply.subarray(0, off));
  out.writeUInt16BE(out.readUInt16BE(2) | 0x0200, 2);
  out.writeUInt16BE(kept, 6);
  out.writeUInt16BE(0, 8);
  out.writeUInt16BE(0, 10);
  return out;
}
