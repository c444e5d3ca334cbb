import { describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import net from 'node:net';
import { RCODE_NOERROR, RCODE_NXDOMAIN, TYPE_A, TYPE_AAAA, TYPE_PTR, buildQuery, parseAnswers, parseQuery, readName } from '../../../src/network/dns-packet.js';
import { DnsServer } from '../../../src/network/dns.js';
import { hostResolvers, hostsFile, resolvConf } from '../../../src/network/etc-files.js';

function server(): DnsServer {
  const s = new DnsServer();
  s.setContainer('p-web-1', [{ network: 'front', address: '10.0.1.2', names: ['web', 'p-web-1', 'www'] }]);
  s.setContainer('p-web-2', [{ network: 'front', address: '10.0.1.3', names: ['web', 'p-web-2'] }]);
  s.setContainer('p-db-1', [{ network: 'back', address: '10.0.2.2', names: ['db', 'p-db-1', 'database'] }]);
  s.setContainer('p-api-1', [
    { network: 'front', address: '10.0.1.4', names: ['api', 'p-api-1'] },
    { network: 'back', address: '10.0.2.3', names: ['api', 'p-api-1'] },
  ]);
  return s;
}

async function ask(s: DnsServer, src: string, name: string, type = TYPE_A) {
  const reply = await s.handle(buildQuery(0x1234, name, type), src);
  expect(reply!.readUInt16BE(0)).toBe(0x1234);
  return parseAnswers(reply!);
}

describe('dns packets', () => {
  it('parses a query and follows compression pointers', () => {
    const q = parseQuery(buildQuery(7, 'Web.Example.', TYPE_A));
    expect(q).toMatchObject({ id: 7, opcode: 0, rd: true, questions: [{ name: 'web.example', type: TYPE_A, class: 1 }] });
    const b = Buffer.concat([Buffer.from([3, 0x61, 0x62, 0x63, 0]), Buffer.from([0xc0, 0x00])]);
    expect(readName(b, 5)).toEqual({ name: 'abc', next: 7 });
    expect(() => readName(Buffer.from([0xc0, 0x00]), 0)).toThrow(/compression/);
  });
});

describe('DnsServer answers', () => {
  it('answers every replica of a service and aliases, scoped to shared networks', async () => {
    const s = server();
    const web = await ask(s, '10.0.1.4', 'web');
    expect(web.rcode).toBe(RCODE_NOERROR);
    expect(web.answers.map((a) => a.data).sort()).toEqual(['10.0.1.2', '10.0.1.3']);
    expect((await ask(s, '10.0.1.4', 'WWW.')).answers.map((a) => a.data)).toEqual(['10.0.1.2']);
    // db is on back only: api (on both) sees it, web (front only) does not
    expect((await ask(s, '10.0.2.3', 'database')).answers.map((a) => a.data)).toEqual(['10.0.2.2']);
    // whichever of its addresses api asks from, it shares both networks
    expect((await ask(s, '10.0.1.4', 'db')).answers.map((a) => a.data)).toEqual(['10.0.2.2']);
    expect((await ask(s, '10.0.1.2', 'db')).rcode).toBe(RCODE_NXDOMAIN);
    // a container on two networks is answered with the address on the shared one
    expect((await ask(s, '10.0.2.2', 'api')).answers.map((a) => a.data)).toEqual(['10.0.2.3']);
    expect((await ask(s, '10.0.1.2', 'api')).answers.map((a) => a.data)).toEqual(['10.0.1.4']);
  });

  it('NXDOMAIN for unknown names, NOERROR without answers for AAAA of known ones', async () => {
    const s = server();
    expect((await ask(s, '10.0.1.2', 'nope')).rcode).toBe(RCODE_NXDOMAIN);
    const aaaa = await ask(s, '10.0.1.2', 'web', TYPE_AAAA);
    expect(aaaa).toEqual({ rcode: RCODE_NOERROR, answers: [] });
  });

  it('follows record changes and answers reverse lookups', async () => {
    const s = server();
    s.setContainer('p-web-1', [{ network: 'front', address: '10.0.1.9', names: ['web', 'p-web-1'] }]);
    s.removeContainer('p-web-2');
    expect((await ask(s, '10.0.1.4', 'web')).answers.map((a) => a.data)).toEqual(['10.0.1.9']);
    expect((await ask(s, '10.0.1.4', 'p-web-2')).rcode).toBe(RCODE_NXDOMAIN);
    const ptr = await ask(s, '10.0.1.4', '9.1.0.10.in-addr.arpa', TYPE_PTR);
    expect(ptr.answers).toEqual([{ type: TYPE_PTR, ttl: 0, data: 'p-web-1' }]);
  });

  it('forwards unknown names to an upstream when enabled', async () => {
    const up = dgram.createSocket('udp4');
    await new Promise<void>((r) => up.bind(0, '127.0.0.1', () => r()));
    const port = (up.address() as { port: number }).port;
    up.on('message', (m, r) => {
      const reply = Buffer.from(m);
      reply.writeUInt16BE(0x8183, 2); // NXDOMAIN from upstream, recognisable
      up.send(reply, r.port, r.address);
    });
    try {
      const s = new DnsServer({ upstreams: ['127.0.0.1'] });
      s.forwardPort = port;
      const r = await s.handle(buildQuery(9, 'example.org', TYPE_A), '10.9.9.9');
      expect(r!.readUInt16BE(2)).toBe(0x8183);
    } finally {
      up.close();
    }
  });
});

describe('etc files', () => {
  it('hosts and resolv.conf', () => {
    expect(hostsFile({ hostname: 'abc', address: '10.0.0.5', names: ['web'] })).toContain('10.0.0.5\tabc web\n');
    expect(hostsFile({ hostname: 'abc' })).toMatch(/^127\.0\.0\.1\tlocalhost\n/);
    expect(resolvConf({ nameserver: '10.0.0.1' })).toBe('nameserver 10.0.0.1\noptions ndots:0\n');
    expect(hostResolvers('# x\nnameserver 127.0.0.53\nnameserver ::1\n nameserver 10.1.1.1 \nsearch lan\n')).toEqual(['127.0.0.53', '10.1.1.1']);
  });
});

describe('large answers', () => {
  it('a UDP answer over 512 bytes is cut to whole records and marked TC', async () => {
    const { truncateForUdp } = await import('../../../src/network/dns.js');
    const s = new DnsServer();
    for (let i = 0; i < 60; i++) s.setContainer(`p-w-${i}`, [{ network: 'n', address: `10.1.0.${i + 2}`, names: ['w'] }]);
    const full = (await s.handle(buildQuery(1, 'w', TYPE_A), '10.1.0.2'))!;
    expect(parseAnswers(full).answers).toHaveLength(60);
    const cut = truncateForUdp(full);
    expect(cut.length).toBeLessThanOrEqual(512);
    expect(cut.readUInt16BE(2) & 0x0200).toBe(0x0200);
    const parsed = parseAnswers(cut);
    expect(parsed.answers.length).toBeGreaterThan(20);
    expect(parsed.answers.every((a) => a.type === TYPE_A)).toBe(true);
  });
});

describe('dnsEntriesFor', () => {
  it('names per network: service, container, hostname and that network aliases', async () => {
    const { dnsEntriesFor } = await import('../../../src/network/dns.js');
    const e = dnsEntriesFor({
      service: 'web',
      container: 'p-web-1',
      attachments: [
        { network: 'front', address: '10.0.1.2' },
        { network: 'back', address: '10.0.2.2' },
      ],
      aliases: { back: ['internal-web'] },
    });
    expect(e).toEqual([
      { network: 'front', address: '10.0.1.2', names: ['web', 'p-web-1'] },
      { network: 'back', address: '10.0.2.2', names: ['web', 'p-web-1', 'internal-web'] },
    ]);
  });
});

describe('forwarding and host names', () => {
  async function udpUpstream(): Promise<{ port: number; close: () => void }> {
    const up = dgram.createSocket('udp4');
    await new Promise<void>((r) => up.bind(0, '127.0.0.1', () => r()));
    up.on('message', (m, r) => {
      const reply = Buffer.from(m);
      reply.writeUInt16BE(0x8183, 2);
      up.send(reply, r.port, r.address);
    });
    return { port: (up.address() as { port: number }).port, close: () => up.close() };
  }

  it('forwards only for containers on a network that is not internal', async () => {
    const up = await udpUpstream();
    const s = new DnsServer({ upstreams: () => ['127.0.0.1'], port: 0 });
    s.forwardPort = up.port;
    try {
      await s.addNetwork('int', '127.0.0.1', { internal: true });
      await s.addNetwork('ext', '127.0.0.1', { internal: false });
      s.setContainer('p-a-1', [{ network: 'int', address: '10.3.0.2', names: ['a'] }]);
      s.setContainer('p-b-1', [
        { network: 'int', address: '10.3.0.3', names: ['b'] },
        { network: 'ext', address: '10.4.0.3', names: ['b'] },
      ]);
      const inside = await s.handle(buildQuery(5, 'example.org', TYPE_A), '10.3.0.2', 'int');
      expect(inside!.readUInt16BE(2) & 0xf).toBe(RCODE_NXDOMAIN);
      expect(inside!.readUInt16BE(2)).not.toBe(0x8183);
      const both = await s.handle(buildQuery(6, 'example.org', TYPE_A), '10.3.0.3', 'int');
      expect(both!.readUInt16BE(2)).toBe(0x8183);
      const stranger = await s.handle(buildQuery(7, 'example.org', TYPE_A), '10.9.9.9', 'int');
      expect(stranger!.readUInt16BE(2)).not.toBe(0x8183);
    } finally {
      await s.close();
      up.close();
    }
  });

  it('forwards a TCP question over TCP', async () => {
    const srv = net.createServer((c) => {
      c.on('data', (d) => {
        const msg = Buffer.from(d.subarray(2));
        msg.writeUInt16BE(0x8180, 2);
        const l = Buffer.alloc(2);
        l.writeUInt16BE(msg.length, 0);
        c.end(Buffer.concat([l, msg]));
      });
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const s = new DnsServer({ upstreams: ['127.0.0.1'] });
    s.forwardPort = (srv.address() as net.AddressInfo).port;
    try {
      const r = await s.handle(buildQuery(8, 'example.org', TYPE_A), '10.9.9.9', undefined, 'tcp');
      expect(r!.readUInt16BE(0)).toBe(8);
      expect(r!.readUInt16BE(2)).toBe(0x8180);
    } finally {
      srv.close();
    }
  });

  it('host.docker.internal is the gateway of the network asked on', async () => {
    const s = new DnsServer({ port: 0 });
    try {
      await s.addNetwork('front', '127.0.0.1');
      s.setContainer('p-a-1', [{ network: 'front', address: '10.3.0.2', names: ['a'] }]);
      const r = await s.handle(buildQuery(9, 'host.docker.internal', TYPE_A), '10.3.0.2', 'front');
      expect(parseAnswers(r!).answers.map((a) => a.data)).toEqual(['127.0.0.1']);
    } finally {
      await s.close();
    }
  });
});

describe('link aliases', () => {
  it('resolve to the linked service for the linking container only, and go with it', () => {
    const dns = new DnsServer({});
    dns.setContainer('p-db-1', [{ network: 'n', address: '10.0.0.2', names: ['db', 'p-db-1'] }]);
    dns.setContainer('p-web-1', [{ network: 'n', address: '10.0.0.3', names: ['web', 'p-web-1'] }]);
    dns.setContainer('p-other-1', [{ network: 'n', address: '10.0.0.4', names: ['other', 'p-other-1'] }]);
    dns.setLinks('p-web-1', { database: 'db', DB2: 'db' });
    expect(dns.lookup('10.0.0.3', 'database')).toEqual(['10.0.0.2']);
    expect(dns.lookup('10.0.0.3', 'db2.')).toEqual(['10.0.0.2']);
    expect(dns.lookup('10.0.0.3', 'db')).toEqual(['10.0.0.2']);
    expect(dns.lookup('10.0.0.4', 'database')).toBeUndefined();
    expect(dns.lookup('10.0.0.2', 'database')).toBeUndefined();
    dns.removeContainer('p-web-1');
    dns.setContainer('p-web-1', [{ network: 'n', address: '10.0.0.3', names: ['web'] }]);
    expect(dns.lookup('10.0.0.3', 'database')).toBeUndefined();
  });
});
