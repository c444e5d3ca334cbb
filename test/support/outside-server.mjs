// A test host's services, run inside the test's own "outside" network namespace
// (test/support/outside-host.ts): HTTP on :8000 answering "outside <client address>", and DNS on
// :53 (UDP and TCP) answering NAME=ADDRESS pairs given on the command line, NXDOMAIN otherwise.
// Prints "ready" when listening and "http <client address>" for each request.
// Usage: node outside-server.mjs LISTEN_ADDRESS NAME=ADDRESS...
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import { buildResponse, parseQuery, RCODE_NOERROR, RCODE_NXDOMAIN, TYPE_A } from '../../dist/network/dns-packet.js';

const [listen, ...pairs] = process.argv.slice(2);
const names = new Map(pairs.map((p) => p.split('=')));

function answer(msg) {
  const q = parseQuery(msg);
  const name = q.questions[0]?.name.toLowerCase().replace(/\.$/, '');
  const addr = names.get(name);
  if (!addr) return buildResponse(q, RCODE_NXDOMAIN, [], { ra: true });
  const answers = q.questions[0].type === TYPE_A ? [{ type: TYPE_A, ttl: 0, data: addr }] : [];
  return buildResponse(q, RCODE_NOERROR, answers, { ra: true });
}

const server = http.createServer((req, res) => {
  const from = req.socket.remoteAddress;
  console.log(`http ${from}`);
  res.end(`outside ${from}\n`);
});
const udp = dgram.createSocket('udp4');
udp.on('message', (m, r) => {
  try {
    udp.send(answer(m), r.port, r.address);
  } catch {
    /* malformed: no answer */
  }
});
const tcp = net.createServer((c) => {
  let buf = Buffer.alloc(0);
  c.on('error', () => undefined);
  c.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
      const reply = answer(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      const l = Buffer.alloc(2);
      l.writeUInt16BE(reply.length, 0);
      c.end(Buffer.concat([l, reply]));
    }
  });
});
await Promise.all([
  new Promise((r) => server.listen(8000, listen, r)),
  new Promise((r) => udp.bind(53, listen, r)),
  new Promise((r) => tcp.listen(53, listen, r)),
]);
console.log('ready');
// ends with its namespace's test: the test kills it; never outlive 10 minutes on its own
setTimeout(() => process.exit(0), 600_000).unref();
process.on('SIGTERM', () => process.exit(0));
