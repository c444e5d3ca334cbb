import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PortProxy, attachContainer, ensureNetwork, expandPortRange, listPorts } from '../../../src/network/index.js';
import { UDP_ECHO, makeWorld, until, type World } from './fixture.js';

let w: World;
const proxies: PortProxy[] = [];
const servers: net.Server[] = [];
beforeEach(() => {
  w = makeWorld();
});
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  await w.cleanup();
});

function get(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: '/index.html', timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

function udpAsk(host: string, port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => {
      s.close();
      reject(new Error('no udp reply'));
    }, 3000);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(String(m));
    });
    s.send(text, port, host);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

function hostAddress(): string | undefined {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

async function webContainer(): Promise<{ address: string }> {
  const c = w.netns('web');
  const net1 = ensureNetwork({ root: w.root, project: w.project, name: 'default', internal: false });
  const e = attachContainer({ netnsPath: c, network: net1, container: 'web-1', ifName: 'eth0' });
  const www = path.join(w.root, 'www');
  mkdirSync(www, { recursive: true });
  writeFileSync(path.join(www, 'index.html'), 'hello from the container\n');
  w.bg(c, `httpd -f -p 80 -h ${www}`);
  const udp = w.node(c, UDP_ECHO, ['5300']);
  await until(async () => (await w.sh(c, 'netstat -ltn')).stdout.includes(':80 '), 5000, 'httpd');
  await until(() => udp.out().includes('ready'), 5000, 'udp echo');
  return e;
}

describe('published ports', () => {
  it('TCP and UDP reachable on 127.0.0.1 and the host address; port 0 chooses a free port', async () => {
    const e = await webContainer();
    const proxy = new PortProxy({ root: w.root, project: w.project });
    proxies.push(proxy);
    const tcpPort = await freePort();
    const published = await proxy.publish('web', 'web-1', e.address, [
      { proto: 'tcp', hostPort: tcpPort, containerPort: 80 },
      { proto: 'tcp', hostPort: 0, containerPort: 80 },
      { proto: 'udp', hostPort: 0, containerPort: 5300 },
    ]);
    expect(published[0]).toMatchObject({ hostIp: '0.0.0.0', hostPort: tcpPort, containerPort: 80, target: e.address });
    const chosen = published[1].hostPort;
    expect(chosen).toBeGreaterThan(0);
    expect(await get('127.0.0.1', tcpPort)).toBe('hello from the container\n');
    expect(await get('127.0.0.1', chosen)).toBe('hello from the container\n');
    const own = hostAddress();
    if (own) expect(await get(own, tcpPort)).toBe('hello from the container\n');
    expect(await udpAsk('127.0.0.1', published[2].hostPort, 'ping-udp')).toBe('PING-UDP');
    expect(
      listPorts(w.root, w.project)
        .map((p) => p.hostPort)
        .sort(),
    ).toEqual(published.map((p) => p.hostPort).sort());
    expect(listPorts(w.root, w.project)[0]).toMatchObject({ service: 'web', container: 'web-1', containerPort: 80, proto: 'tcp' });

    await proxy.unpublish('web-1');
    expect(listPorts(w.root, w.project)).toEqual([]);
    await expect(get('127.0.0.1', tcpPort)).rejects.toThrow();
  });

  it('binds only on the host address given, and expands ranges', async () => {
    const e = await webContainer();
    const proxy = new PortProxy({ root: w.root, project: w.project });
    proxies.push(proxy);
    const p0 = await freePort();
    const maps = expandPortRange({ proto: 'tcp', hostIp: '127.0.0.1', hostPorts: [p0, p0], containerPorts: [80, 80] });
    const [pub] = await proxy.publish('web', 'web-1', e.address, maps);
    expect(pub.hostIp).toBe('127.0.0.1');
    expect(await get('127.0.0.1', p0)).toContain('hello');
    expect(expandPortRange({ proto: 'udp', hostPorts: [8000, 8002], containerPorts: [80, 82] }).map((m) => `${m.hostPort}:${m.containerPort}`)).toEqual([
      '8000:80',
      '8001:81',
      '8002:82',
    ]);
    expect(() => expandPortRange({ proto: 'tcp', hostPorts: [8000, 8001], containerPorts: [80, 82] })).toThrow(/differ in length/);
  });

  it('a port conflict names the port and the holder, and nothing is left half-started', async () => {
    const e = await webContainer();
    const busy = net.createServer();
    servers.push(busy);
    await new Promise<void>((r) => busy.listen(0, '0.0.0.0', () => r()));
    const busyPort = (busy.address() as net.AddressInfo).port;
    const free = await freePort();

    const proxy = new PortProxy({ root: w.root, project: w.project });
    proxies.push(proxy);
    await expect(
      proxy.publish('web', 'web-1', e.address, [
        { proto: 'tcp', hostPort: free, containerPort: 80 },
        { proto: 'tcp', hostPort: busyPort, containerPort: 80 },
      ]),
    ).rejects.toMatchObject({
      code: 'NETWORK_PORT_IN_USE',
      message: expect.stringMatching(new RegExp(`host port 0\\.0\\.0\\.0:${busyPort}/tcp for service web .*another program`)),
    });
    // the first port was released again
    await new Promise<void>((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(free, '0.0.0.0', () => s.close(() => resolve()));
    });
    expect(listPorts(w.root)).toEqual([]);

    // held by one of ours: the error names project and service
    await proxy.publish('web', 'web-1', e.address, [{ proto: 'tcp', hostPort: free, containerPort: 80 }]);
    const other = new PortProxy({ root: w.root, project: 'tscother' });
    proxies.push(other);
    await expect(other.publish('api', 'api-1', e.address, [{ proto: 'tcp', hostPort: free, containerPort: 80 }])).rejects.toMatchObject({
      code: 'NETWORK_PORT_IN_USE',
      message: expect.stringContaining(`already in use by service web of project ${w.project}`),
    });
  });

  it('follows a new container address', async () => {
    const e = await webContainer();
    const proxy = new PortProxy({ root: w.root, project: w.project });
    proxies.push(proxy);
    const [pub] = await proxy.publish('web', 'web-1', '127.0.0.9', [{ proto: 'tcp', hostPort: 0, containerPort: 80 }]);
    proxy.setTarget('web-1', e.address);
    expect(await get('127.0.0.1', pub.hostPort)).toContain('hello');
  });
});
