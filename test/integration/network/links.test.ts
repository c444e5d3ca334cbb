import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import {
  attachContainer,
  cleanupProject,
  createNetns,
  deleteNetns,
  detachContainer,
  detachContainers,
  ensureNetwork,
  isMounted,
  listProjectLinks,
  netnsPathFor,
  readIpam,
  removeNetwork,
  withNetns,
} from '../../../src/network/index.js';
import { layout } from '../../../src/common/layout.js';
import { journalAdd } from '../../../src/network/link-journal.js';
import { UDP_ECHO, UDP_SEND, makeWorld, run, until, type World } from './fixture.js';

let w: World;
beforeEach(() => {
  w = makeWorld();
});
afterEach(async () => {
  await w.cleanup();
});

describe('network namespaces', () => {
  it('creates a pinned namespace with loopback up and removes it', async () => {
    const f = w.netns('solo');
    expect(isMounted(f)).toBe(true);
    const links = withNetns(f, (rt) => rt.listLinks());
    expect(links.map((l) => l.name)).toEqual(['lo']);
    expect(links[0].up).toBe(true);
    // the main thread is back in the host namespace
    expect(readFileLinkNames()).not.toEqual(['lo']);
    const r = await w.sh(f, 'ping -c1 -W1 127.0.0.1');
    expect(r.code).toBe(0);
    deleteNetns(f);
    expect(existsSync(f)).toBe(false);
    deleteNetns(f); // idempotent
  });
});

function readFileLinkNames(): string[] {
  return readdirSync('/sys/class/net');
}

describe('bridge + veth', () => {
  it('two namespaces on one bridge exchange TCP and UDP data', async () => {
    const a = w.netns('a');
    const b = w.netns('b');
    const net = ensureNetwork({ root: w.root, project: w.project, name: 'default', internal: false });
    expect(net.bridgeName).toMatch(/^tsc-/);
    expect(ensureNetwork({ root: w.root, project: w.project, name: 'default', internal: false })).toEqual(net); // idempotent
    const ea = attachContainer({ netnsPath: a, network: net, container: `${w.project}-a-1`, ifName: 'eth0' });
    const eb = attachContainer({ netnsPath: b, network: net, container: `${w.project}-b-1`, ifName: 'eth0' });
    expect(ea.address).not.toBe(eb.address);
    expect(ea.defaultRoute).toBe(true);
    expect(ea.mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);

    const routes = (await w.sh(a, 'ip route')).stdout;
    expect(routes).toContain(`default via ${net.gateway} dev eth0`);

    const tcp = w.bg(b, 'nc -l -p 7001');
    await until(async () => (await w.sh(b, 'netstat -ltn')).stdout.includes(':7001'), 5000, 'tcp listener');
    const sent = await w.sh(a, `echo hello-tcp | nc ${eb.address} 7001`);
    expect(sent.code).toBe(0);
    await until(() => tcp.out().includes('hello-tcp'), 5000, 'tcp data');

    const udp = w.node(b, UDP_ECHO, ['7002']);
    await until(() => udp.out().includes('ready'), 5000, 'udp listener');
    const client = w.node(a, UDP_SEND, [eb.address, '7002', 'hello-udp']);
    await until(() => client.out().includes('reply:HELLO-UDP'), 5000, 'udp reply');
    expect(udp.out()).toContain('got:hello-udp');

    // host side: both veths are enslaved to the bridge and found as the project's links
    const names = listProjectLinks(w.root, w.project)
      .map((l) => l.name)
      .sort();
    expect(names).toEqual([net.bridgeName, ea.hostIfName, eb.hostIfName].sort());
    const master = await run('ip', ['-o', 'link', 'show', 'master', net.bridgeName]);
    expect(master).toContain(ea.hostIfName);

    detachContainer({ network: net, container: `${w.project}-a-1` });
    expect(withNetns(a, (rt) => rt.listLinks().map((l) => l.name))).toEqual(['lo']);
    removeNetwork(net);
    expect(listProjectLinks(w.root, w.project)).toEqual([]);
  });

  it('honours a configured subnet, gateway and ipv4_address, and a second network as eth1', async () => {
    const a = w.netns('a');
    const front = ensureNetwork({ root: w.root, project: w.project, name: 'front', internal: false, subnet: '10.231.7.0/24', gateway: '10.231.7.254' });
    const back = ensureNetwork({ root: w.root, project: w.project, name: 'back', internal: true, mtu: 1400 });
    expect(front).toMatchObject({ subnet: '10.231.7.0/24', gateway: '10.231.7.254', prefixLen: 24 });
    const e0 = attachContainer({ netnsPath: a, network: front, container: 'c', ifName: 'eth0', address: '10.231.7.9' });
    const e1 = attachContainer({ netnsPath: a, network: back, container: 'c', ifName: 'eth1' });
    expect(e0.address).toBe('10.231.7.9');
    expect(e1.defaultRoute).toBe(false);
    const addrs = (await w.sh(a, 'ip -o addr')).stdout;
    expect(addrs).toContain('10.231.7.9/24');
    expect(addrs).toContain(`${e1.address}/${back.prefixLen}`);
    const mtu = withNetns(a, (rt) => rt.listLinks().find((l) => l.name === 'eth1')!.mtu);
    expect(mtu).toBe(1400);
    // a subnet another network of ours holds is refused, naming it
    expect(() => ensureNetwork({ root: w.root, project: w.project, name: 'clash', internal: false, subnet: '10.231.0.0/16' })).toThrow(
      /overlaps network front/,
    );
    // the host routes of a live bridge are skipped by the pool of another root too
    const other = makeWorld();
    try {
      const n2 = ensureNetwork({ root: other.root, project: other.project, name: 'default', internal: false });
      expect(n2.subnet).not.toBe(back.subnet);
    } finally {
      await other.cleanup();
    }
  });

  it('an internal network has no default route; two networks are isolated', async () => {
    const a = w.netns('a');
    const b = w.netns('b');
    const i = w.netns('i');
    const n1 = ensureNetwork({ root: w.root, project: w.project, name: 'one', internal: false });
    const n2 = ensureNetwork({ root: w.root, project: w.project, name: 'two', internal: false });
    const nin = ensureNetwork({ root: w.root, project: w.project, name: 'inner', internal: true });
    attachContainer({ netnsPath: a, network: n1, container: 'a', ifName: 'eth0' });
    const eb = attachContainer({ netnsPath: b, network: n2, container: 'b', ifName: 'eth0' });
    const ei = attachContainer({ netnsPath: i, network: nin, container: 'i', ifName: 'eth0' });
    expect(ei.defaultRoute).toBe(false);
    const r = (await w.sh(i, 'ip route')).stdout;
    expect(r).not.toContain('default');
    expect((await w.sh(i, `ping -c1 -W1 ${nin.gateway}`)).code).toBe(0);
    expect((await w.sh(i, 'ping -c1 -W1 192.0.2.1')).code).not.toBe(0);

    w.bg(b, 'nc -l -p 7003');
    await until(async () => (await w.sh(b, 'netstat -ltn')).stdout.includes(':7003'), 5000, 'listener');
    expect((await w.sh(a, `ping -c1 -W1 ${eb.address}`)).code).not.toBe(0);
    expect((await w.sh(a, `echo x | timeout 2 nc ${eb.address} 7003`)).code).not.toBe(0);
  });

  it('an external network attaches to an existing bridge and never deletes it', async () => {
    const br = 'tscx' + w.project.slice(4);
    await run('ip', ['link', 'add', br, 'type', 'bridge']);
    try {
      await run('ip', ['addr', 'add', '10.232.9.1/24', 'dev', br]);
      await run('ip', ['link', 'set', br, 'up']);
      const a = w.netns('a');
      const net = ensureNetwork({ root: w.root, project: w.project, name: 'ext', internal: false, external: { bridge: br } });
      expect(net).toMatchObject({ subnet: '10.232.9.0/24', gateway: '10.232.9.1', external: true });
      const e = attachContainer({ netnsPath: a, network: net, container: 'c', ifName: 'eth0' });
      expect((await w.sh(a, `ping -c1 -W1 ${net.gateway}`)).code).toBe(0);
      expect(e.address).toBe('10.232.9.2');
      cleanupProject(w.root, w.project);
      expect((await run('ip', ['-o', 'link', 'show', br])).length).toBeGreaterThan(0);
      expect(() => ensureNetwork({ root: w.root, project: w.project, name: 'x', internal: false, external: { bridge: 'tscnonexist' } })).toThrow(
        /bridge tscnonexist does not exist/,
      );
    } finally {
      await run('ip', ['link', 'del', br]);
    }
  });

  it('a kernel refusal becomes a NETWORK error naming the object', () => {
    const net = ensureNetwork({ root: w.root, project: w.project, name: 'default', internal: false });
    expect(() => attachContainer({ netnsPath: netnsPathFor(w.root, w.project, 'missing'), network: net, container: 'c', ifName: 'eth0' })).toThrow(
      /opening network namespace .*missing: ENOENT/,
    );
    // nothing half-made: the address was released
    expect(readIpam(w.root).networks[`${w.project}/default`].addresses).toEqual({});
    const a = w.netns('a');
    expect(() => attachContainer({ netnsPath: a, network: net, container: 'c', ifName: 'this-name-is-way-too-long' })).toThrow(
      expect.objectContaining({ code: 'NETWORK', message: expect.stringMatching(/creating veth pair tsv\w+ \(peer this-name-is-way-too-long\)/) }),
    );
  });
});

describe('crash cleanup', () => {
  it('finds a link created just before a crash, before it got its alias', async () => {
    const name = 'tsv' + w.project.slice(4) + 'zz';
    journalAdd(w.root, w.project, name);
    await run('ip', ['link', 'add', name, 'type', 'bridge']);
    try {
      expect(listProjectLinks(w.root, w.project).map((l) => l.name)).toEqual([name]);
      expect(cleanupProject(w.root, w.project).links).toEqual([name]);
      expect(readdirSync('/sys/class/net')).not.toContain(name);
    } finally {
      await run('ip', ['link', 'del', name]).catch(() => undefined);
    }
  });

  it('20 create/attach/cleanup cycles leave zero links, netns files and allocations', async () => {
    const names = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const a = createNetnsFor(w, `a${i}`);
      const b = createNetnsFor(w, `b${i}`);
      const n1 = ensureNetwork({ root: w.root, project: w.project, name: 'default', internal: false });
      const n2 = ensureNetwork({ root: w.root, project: w.project, name: 'back', internal: true });
      names.add(n1.bridgeName).add(n2.bridgeName);
      names.add(attachContainer({ netnsPath: a, network: n1, container: 'a', ifName: 'eth0' }).hostIfName);
      names.add(attachContainer({ netnsPath: a, network: n2, container: 'a', ifName: 'eth1' }).hostIfName);
      names.add(attachContainer({ netnsPath: b, network: n1, container: 'b', ifName: 'eth0' }).hostIfName);
      // no detach or removeNetwork: cleanup finds everything as it would after a crash
      cleanupProject(w.root, w.project);
      cleanupProject(w.root, w.project); // idempotent
    }
    const present = readdirSync('/sys/class/net').filter((n) => names.has(n));
    expect(present).toEqual([]);
    expect(listProjectLinks(w.root, w.project)).toEqual([]);
    expect(existsSync(layout.netnsDir(w.root, w.project)) ? readdirSync(layout.netnsDir(w.root, w.project)) : []).toEqual([]);
    expect(Object.keys(readIpam(w.root).networks)).toEqual([]);
    const mounts = (await run('cat', ['/proc/self/mountinfo'])).split('\n').filter((l) => l.includes(w.root));
    expect(mounts).toEqual([]);
  });
});

function createNetnsFor(world: World, id: string): string {
  const f = netnsPathFor(world.root, world.project, id);
  createNetns(f);
  return f;
}

describe('bridge address', () => {
  it('keeps its MAC while ports come and go (no stale gateway in ARP caches)', () => {
    const a = w.netns('a');
    const b = w.netns('b');
    const net = ensureNetwork({ root: w.root, project: w.project, name: 'default', internal: false });
    const mac0 = listProjectLinks(w.root, w.project).find((l) => l.name === net.bridgeName)!.mac;
    expect(mac0).toMatch(/^[0-9a-f][2367abef]:/);
    attachContainer({ netnsPath: a, network: net, container: 'a', ifName: 'eth0' });
    attachContainer({ netnsPath: b, network: net, container: 'b', ifName: 'eth0' });
    detachContainer({ network: net, container: 'a' });
    const mac1 = listProjectLinks(w.root, w.project).find((l) => l.name === net.bridgeName)!.mac;
    expect(mac1).toBe(mac0);
  });
});

describe('attachContainer on several networks', () => {
  it('attaches eth0, eth1 (the default route on the first non-internal one) and rolls a failed attach back', async () => {
    const n1 = ensureNetwork({ root: w.root, project: w.project, name: 'front', internal: false });
    const n2 = ensureNetwork({ root: w.root, project: w.project, name: 'back', internal: true });
    const f = netnsPathFor(w.root, w.project, 'multi');
    createNetns(f);
    const atts = [
      attachContainer({ netnsPath: f, network: n1, container: 'm', ifName: 'eth0' }),
      attachContainer({ netnsPath: f, network: n2, container: 'm', ifName: 'eth1' }),
    ];
    expect(atts.map((a) => [a.ifName, a.network, a.defaultRoute])).toEqual([
      ['eth0', 'front', true],
      ['eth1', 'back', false],
    ]);
    const names = withNetns(f, (rt) =>
      rt
        .listLinks()
        .map((l) => l.name)
        .sort(),
    );
    expect(names).toEqual(['eth0', 'eth1', 'lo']);
    detachContainers([n1, n2].map((network) => ({ network, container: 'm' })));
    deleteNetns(f);
    expect(existsSync(f)).toBe(false);

    // an address outside the network's subnet: no link and no address stay behind
    const g = netnsPathFor(w.root, w.project, 'bad');
    createNetns(g);
    expect(() => attachContainer({ netnsPath: g, network: n2, container: 'b', ifName: 'eth0', address: '10.0.0.5' })).toThrow(/not a usable host address/);
    deleteNetns(g);
    expect(
      listProjectLinks(w.root, w.project)
        .map((l) => l.name)
        .sort(),
    ).toEqual([n1.bridgeName, n2.bridgeName].sort());
    expect(readIpam(w.root).networks[`${w.project}/front`].addresses).toEqual({});
    expect(readIpam(w.root).networks[`${w.project}/back`].addresses).toEqual({});
  });
});

describe('Rtnl operations inside a namespace', () => {
  it('rename, down/up, MTU, master, address and route add/delete, lookups', async () => {
    const f = w.netns('ops');
    withNetns(f, (rt) => {
      expect(rt.getLink('nosuch0')).toBeUndefined();
      rt.createBridge('tscbr0', { mtu: 1400 });
      rt.createVeth('tscva', 'tscvb');
      const br = rt.requireLink('tscbr0');
      expect(br).toMatchObject({ kind: 'bridge', mtu: 1400, up: false });
      const va = rt.requireLink('tscva');
      rt.setLink(va.index, { name: 'tscvrenamed' }, 'tscva');
      expect(rt.getLink('tscva')).toBeUndefined();
      rt.setLink(va.index, { master: br.index, mtu: 1300 }, 'tscvrenamed');
      rt.setLink(va.index, { up: true }, 'tscvrenamed');
      rt.setLink(br.index, { up: true }, 'tscbr0');
      expect(rt.requireLink('tscvrenamed')).toMatchObject({ master: br.index, mtu: 1300, up: true });
      rt.setLink(va.index, { up: false }, 'tscvrenamed');
      expect(rt.requireLink('tscvrenamed').up).toBe(false);
      rt.addAddress(br.index, '10.240.0.1', 24, 'tscbr0');
      expect(rt.listAddresses()).toContainEqual({ index: br.index, address: '10.240.0.1', prefixLen: 24 });
      expect(() => rt.addAddress(br.index, '10.240.0.1', 24, 'tscbr0')).toThrow(/adding address 10\.240\.0\.1\/24 to tscbr0: already exists \(EEXIST\)/);
      rt.addRoute({ dst: '10.241.0.0', dstLen: 16, gateway: '10.240.0.9', oif: br.index }, 'test');
      expect(rt.listRoutes()).toContainEqual(expect.objectContaining({ dst: '10.241.0.0', dstLen: 16, gateway: '10.240.0.9' }));
      rt.deleteRoute({ dst: '10.241.0.0', dstLen: 16, gateway: '10.240.0.9', oif: br.index }, 'test');
      expect(rt.listRoutes().some((r) => r.dst === '10.241.0.0')).toBe(false);
      rt.deleteAddress(br.index, '10.240.0.1', 24, 'tscbr0');
      expect(rt.listAddresses().some((a) => a.address === '10.240.0.1')).toBe(false);
      expect(rt.deleteLinkByName('tscvrenamed')).toBe(true);
      expect(rt.getLink('tscvb')).toBeUndefined(); // the peer went with it
      expect(rt.deleteLinkByName('tscvrenamed')).toBe(false);
    });
    // none of it touched the host
    expect(readdirSync('/sys/class/net')).not.toContain('tscbr0');
  });
});
