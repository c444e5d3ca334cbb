/**
 * Networking as it must work on users' hosts: egress through NAT with names resolved by the
 * host's resolvers, isolation between networks with forwarding on, a recreated container
 * reachable at once, nothing left in the packet filter after many cycles, and a clear error
 * where the packet-filter tools are missing. The suite runs these under the plain host and
 * under the hostile profile (TSCOMPOSE_TEST_HOST=hostile: Docker's packet-filter state).
 *
 * Traffic goes only to the project's own bridges and to a test host in the test's own network
 * namespace (test/support/outside-host.ts checks its route first).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { CliProject, leftovers } from '../../support/cli.js';
import { createOutsideHost, type OutsideHost } from '../../support/outside-host.js';
import { rulesetText } from '../../support/host-profile.js';

let outside: OutsideHost | undefined;
afterEach(() => {
  outside?.remove();
  outside = undefined;
});

const ipForward = () => readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();

describe('networking on real hosts', () => {
  it('a container reaches a host outside by name through NAT; an internal network reaches nothing', async () => {
    const before = { ruleset: rulesetText(), forward: ipForward() };
    outside = await createOutsideHost();
    const p = await CliProject.create(`
services:
  client:
    image: busybox:latest
    command: sleep 3600
    extra_hosts: ["myhost:host-gateway"]
  locked:
    image: busybox:latest
    command: sleep 3600
    networks: [inner]
networks:
  inner:
    internal: true
`);
    p.write('resolv.conf', `nameserver ${outside.address}\n`);
    const env = { TSCOMPOSE_RESOLV_CONF: `${p.dir}/resolv.conf` };
    await p.ok(['up', '-d'], { env });
    expect(ipForward()).toBe('1');

    const got = await p.ok(['exec', 'client', 'timeout', '10', 'wget', '-q', '-O', '-', `http://${outside.name}:8000/`]);
    // the test host has no route to the container subnet: it answered the host's address (NAT)
    expect(got.stdout.trim()).toBe(`outside ${outside.hostAddress}`);
    expect(outside.requests).toEqual([outside.hostAddress]);
    // the resolver forwards over TCP too (nslookup asks over UDP; a TCP question is checked in the unit suite)
    const unknown = await p.run(['exec', 'client', 'nslookup', 'nothing.test']);
    expect(unknown.code).not.toBe(0);
    // the host as seen from a container: extra_hosts host-gateway and host.docker.internal are the gateway
    const hosts = (await p.ok(['exec', 'client', 'cat', '/etc/hosts'])).stdout;
    const gateway = /^(\d+\.\d+\.\d+\.\d+)\s+myhost$/m.exec(hosts)?.[1];
    expect(gateway).toMatch(/\.1$/);
    const hostName = (await p.ok(['exec', 'client', 'nslookup', 'host.docker.internal'])).stdout;
    expect(hostName).toContain(`Address: ${gateway}`);

    const byAddress = await p.run(['exec', 'locked', 'timeout', '3', 'wget', '-q', '-O', '-', `http://${outside.address}:8000/`]);
    expect(byAddress.code).not.toBe(0);
    const byName = await p.run(['exec', 'locked', 'nslookup', outside.name]);
    expect(byName.code).not.toBe(0);
    expect(outside.requests).toEqual([outside.hostAddress]);

    await p.ok(['down', '-t', '0']);
    expect(ipForward()).toBe(before.forward);
    expect(rulesetText()).toBe(before.ruleset);
  });

  it('two networks stay isolated by address and by name while the host forwards', async () => {
    const p = await CliProject.create(`
services:
  web:
    image: busybox:latest
    command: ["httpd", "-f", "-p", "80", "-h", "/"]
    networks: [front]
  peer:
    image: busybox:latest
    command: sleep 3600
    networks: [front]
  intruder:
    image: busybox:latest
    command: sleep 3600
    networks: [back]
networks:
  front: {}
  back: {}
`);
    await p.ok(['up', '-d']);
    expect(ipForward()).toBe('1');
    const web = (await p.ps()).find((c) => c.Service === 'web')!;
    // ps's Networks is Compose's list of network names: the address comes from the record
    const address = Object.values(p.addresses(web.Name as string))[0]!;
    expect(address).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    await p.ok(['exec', 'peer', 'timeout', '5', 'wget', '-q', '-O', '/dev/null', `http://${address}/etc/hostname`]);
    const byAddress = await p.run(['exec', 'intruder', 'timeout', '3', 'wget', '-q', '-O', '/dev/null', `http://${address}/etc/hostname`]);
    expect(byAddress.code).not.toBe(0);
    const byName = await p.run(['exec', 'intruder', 'nslookup', 'web']);
    expect(byName.code).not.toBe(0);
  });

  it('a recreated container is reachable by its peers at once, 10 times in a row', async () => {
    const compose = (n: number) => `
services:
  web:
    image: busybox:latest
    command: ["httpd", "-f", "-p", "80", "-h", "/"]
    environment:
      ROUND: "${n}"
    networks:
      default:
        ipv4_address: 10.231.7.10
  client:
    image: busybox:latest
    command: sleep 3600
networks:
  default:
    ipam:
      config:
        - subnet: 10.231.7.0/24
`;
    const p = await CliProject.create(compose(0));
    await p.ok(['up', '-d']);
    // warm the client's neighbour entry for web's address
    await p.ok(['exec', 'client', 'timeout', '5', 'wget', '-q', '-O', '/dev/null', 'http://web/etc/hostname']);
    for (let n = 1; n <= 10; n++) {
      p.write('compose.yaml', compose(n));
      await p.ok(['up', '-d', '-t', '0']);
      // retry while httpd starts (connection refused returns at once); a stale neighbour entry
      // would stall the connect for seconds and miss the 1 s bound
      const r = await p.run(['exec', 'client', 'timeout', '1', 'sh', '-c', 'until wget -q -O /dev/null http://web/etc/hostname; do usleep 20000; done']);
      expect(r.code, `round ${n}: ${r.stderr}`).toBe(0);
    }
  });

  it('20 up/down cycles leave the ruleset byte-identical and no link, netns or mount', async () => {
    const before = { ruleset: rulesetText(), forward: ipForward() };
    const p = await CliProject.create(`
services:
  a:
    image: busybox:latest
    command: sleep 3600
    networks: [front, inner]
networks:
  front: {}
  inner:
    internal: true
`);
    for (let i = 0; i < 20; i++) {
      await p.ok(['up', '-d']);
      await p.ok(['down', '-t', '0']);
      expect(leftovers(p.name)).toEqual([]);
    }
    expect(rulesetText()).toBe(before.ruleset);
    expect(ipForward()).toBe(before.forward);
  });

  it('without nft: a clear error naming the package for an egress network; internal networks still work', async () => {
    const env = { PATH: '/usr/local/bin:/usr/bin:/bin' };
    const p = await CliProject.create(`
services:
  a:
    image: busybox:latest
    command: sleep 3600
`);
    const r = await p.run(['up', '-d'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nft/);
    expect(r.stderr).toMatch(/apt-get install nftables/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(leftovers(p.name).filter((l) => l.startsWith('link'))).toEqual([]);

    const q = await CliProject.create(`
services:
  b:
    image: busybox:latest
    command: sleep 3600
    networks: [inner]
networks:
  inner:
    internal: true
`);
    await q.ok(['up', '-d'], { env });
    expect((await q.ok(['exec', 'b', 'echo', 'hi'], { env })).stdout.trim()).toBe('hi');
  });
});
