import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DnsServer, attachContainer, detachContainer, ensureNetwork, resolvConf } from '../../../src/network/index.js';
import { makeWorld, until, type World } from './fixture.js';

let w: World;
let dns: DnsServer | undefined;
beforeEach(() => {
  w = makeWorld();
});
afterEach(async () => {
  await dns?.close();
  dns = undefined;
  await w.cleanup();
});

/** node -e: a DNS query over TCP to argv[1]:53 for argv[2]; prints the A answers. */
const TCP_QUERY = `
const net = require('net');
const name = process.argv[2];
const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
const q = Buffer.concat([Buffer.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, 1, 0, 1])]);
const len = Buffer.alloc(2); len.writeUInt16BE(q.length);
const c = net.connect(53, process.argv[1], () => c.write(Buffer.concat([len, q])));
let buf = Buffer.alloc(0);
c.on('data', (d) => {
  buf = Buffer.concat([buf, d]);
  if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
  const m = buf.subarray(2);
  const an = m.readUInt16BE(6);
  let off = q.length;
  const out = [];
  for (let i = 0; i < an; i++) { off += 2 + 10; out.push([...m.subarray(off, off + 4)].join('.')); off += 4; }
  process.stdout.write('rcode=' + (m.readUInt16BE(2) & 15) + ' ' + out.join(',') + '\\n');
  c.end();
});
setTimeout(() => process.exit(2), 3000);
`;

describe('service-name DNS on the bridge gateway', () => {
  it('answers service names, aliases and replicas, NXDOMAIN for others, and follows address changes', async () => {
    const a = w.netns('a');
    const b1 = w.netns('b1');
    const b2 = w.netns('b2');
    const o = w.netns('o');
    const front = ensureNetwork({ root: w.root, project: w.project, name: 'front', internal: false });
    const other = ensureNetwork({ root: w.root, project: w.project, name: 'other', internal: true });
    const ea = attachContainer({ netnsPath: a, network: front, container: 'p-client-1', ifName: 'eth0' });
    const eb1 = attachContainer({ netnsPath: b1, network: front, container: 'p-web-1', ifName: 'eth0' });
    const eb2 = attachContainer({ netnsPath: b2, network: front, container: 'p-web-2', ifName: 'eth0' });
    const eo = attachContainer({ netnsPath: o, network: other, container: 'p-hidden-1', ifName: 'eth0' });

    dns = new DnsServer();
    await dns.addNetwork('front', front.gateway);
    await dns.addNetwork('other', other.gateway);
    dns.setContainer('p-client-1', [{ network: 'front', address: ea.address, names: ['client', 'p-client-1'] }]);
    dns.setContainer('p-web-1', [{ network: 'front', address: eb1.address, names: ['web', 'p-web-1', 'www'] }]);
    dns.setContainer('p-web-2', [{ network: 'front', address: eb2.address, names: ['web', 'p-web-2', 'www'] }]);
    dns.setContainer('p-hidden-1', [{ network: 'other', address: eo.address, names: ['hidden', 'p-hidden-1'] }]);

    expect(resolvConf({ nameserver: front.gateway })).toContain(`nameserver ${front.gateway}`);
    const web = await w.sh(a, `nslookup -type=a web ${front.gateway}`);
    expect(web.stdout).toContain(eb1.address);
    expect(web.stdout).toContain(eb2.address);
    const alias = await w.sh(a, `nslookup -type=a www ${front.gateway}`);
    expect(alias.stdout).toContain(eb1.address);
    const nx = await w.sh(a, `nslookup -type=a nosuchname ${front.gateway}`);
    expect(nx.stdout + nx.stderr).toContain('NXDOMAIN');
    // not on a shared network: even asking the other network's gateway gives nothing
    const hidden = await w.sh(a, `nslookup -type=a hidden ${other.gateway}`);
    expect(hidden.stdout + hidden.stderr).toContain('NXDOMAIN');
    expect((await w.sh(o, `nslookup -type=a hidden ${other.gateway}`)).stdout).toContain(eo.address);

    // over TCP too
    const tcp = w.node(a, TCP_QUERY, [front.gateway, 'web']);
    await until(() => tcp.out().includes('rcode='), 5000, 'tcp dns answer');
    expect(tcp.out()).toContain('rcode=0');
    expect(tcp.out()).toContain(eb1.address);

    // web-1 is recreated with another address: the name follows
    detachContainer({ network: front, container: 'p-web-1' });
    const moved = attachContainer({ netnsPath: b1, network: front, container: 'p-web-1', ifName: 'eth0', address: nextFree(front.gateway) });
    expect(moved.address).not.toBe(eb1.address);
    dns.setContainer('p-web-1', [{ network: 'front', address: moved.address, names: ['web', 'p-web-1', 'www'] }]);
    const after = await w.sh(a, `nslookup -type=a p-web-1 ${front.gateway}`);
    expect(after.stdout).toContain(moved.address);
    expect(after.stdout).not.toContain(`Address: ${eb1.address}\n`);
    // a stopped container disappears
    dns.removeContainer('p-web-2');
    const gone = await w.sh(a, `nslookup -type=a p-web-2 ${front.gateway}`);
    expect(gone.stdout + gone.stderr).toContain('NXDOMAIN');
  });

  it('refuses to start when the address is taken, with a NETWORK error', async () => {
    const front = ensureNetwork({ root: w.root, project: w.project, name: 'front', internal: false });
    dns = new DnsServer();
    await dns.addNetwork('front', front.gateway);
    const second = new DnsServer();
    await expect(second.addNetwork('front', front.gateway)).rejects.toMatchObject({
      code: 'NETWORK',
      message: expect.stringContaining(`${front.gateway}:53/udp`),
    });
    await second.close();
  });
});

function nextFree(gateway: string): string {
  const p = gateway.split('.').map(Number);
  p[3] = 200;
  return p.join('.');
}
