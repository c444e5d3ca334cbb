import { describe, expect, it } from 'vitest';
import { chooseAddress, chooseSubnet, defaultPool, type IpamState } from '../../../src/network/ipam.js';
import { cidrString, overlaps, parseCidr } from '../../../src/network/ip.js';
import { base32, bridgeNameFor, vethNameFor, linkAlias } from '../../../src/network/names.js';

const st = (nets: IpamState['networks'] = {}): IpamState => ({ networks: nets });

describe('subnet choice', () => {
  it('starts at 172.17.0.0/16 and ends with 192.168.x/20 slices', () => {
    const pool = [...defaultPool()].map(cidrString);
    expect(pool[0]).toBe('172.17.0.0/16');
    expect(pool[14]).toBe('172.31.0.0/16');
    expect(pool[15]).toBe('192.168.0.0/20');
    expect(pool.at(-1)).toBe('192.168.240.0/20');
  });

  it('skips host routes and subnets of other projects', () => {
    const s = st({
      'a/default': { project: 'a', network: 'default', subnet: '172.17.0.0/16', gateway: '172.17.0.1', external: false, addresses: {} },
    });
    const r = chooseSubnet(s, { project: 'b', network: 'default', hostRoutes: [{ cidr: '172.18.5.0/24', dev: 'x' }, { cidr: '0.0.0.0/0' }] });
    expect(r).toEqual({ subnet: '172.19.0.0/16', gateway: '172.19.0.1' });
  });

  it('honours a configured subnet and gateway, refusing overlaps with the holder named', () => {
    expect(chooseSubnet(st(), { project: 'p', network: 'n', subnet: '10.9.0.0/24', gateway: '10.9.0.254', hostRoutes: [] })).toEqual({
      subnet: '10.9.0.0/24',
      gateway: '10.9.0.254',
    });
    const s = st({ 'q/back': { project: 'q', network: 'back', subnet: '10.9.0.0/16', gateway: '10.9.0.1', external: false, addresses: {} } });
    expect(() => chooseSubnet(s, { project: 'p', network: 'n', subnet: '10.9.3.0/24', hostRoutes: [] })).toThrow(/overlaps network back of project q/);
    expect(() => chooseSubnet(st(), { project: 'p', network: 'n', subnet: '10.9.0.0/24', gateway: '10.8.0.1', hostRoutes: [] })).toThrow(
      /not a usable host address/,
    );
    expect(() => chooseSubnet(st(), { project: 'p', network: 'n', subnet: 'nonsense', hostRoutes: [] })).toThrow(/CIDR/);
  });

  it('overlap arithmetic', () => {
    expect(overlaps(parseCidr('10.0.0.0/8'), parseCidr('10.3.0.0/16'))).toBe(true);
    expect(overlaps(parseCidr('10.0.0.0/16'), parseCidr('10.1.0.0/16'))).toBe(false);
    expect(cidrString(parseCidr('10.1.2.3/24'))).toBe('10.1.2.0/24');
  });
});

describe('address choice', () => {
  const base = (): IpamState =>
    st({ 'p/n': { project: 'p', network: 'n', subnet: '10.5.0.0/29', gateway: '10.5.0.1', external: false, addresses: { '10.5.0.2': 'p-a-1' } } });

  it('hands out the next free address, skipping the gateway', () => {
    expect(chooseAddress(base(), 'p/n', 'p-b-1')).toBe('10.5.0.3');
    expect(chooseAddress(base(), 'p/n', 'p-a-1')).toBe('10.5.0.2');
  });

  it('honours ipv4_address and refuses a taken or outside one', () => {
    expect(chooseAddress(base(), 'p/n', 'p-b-1', '10.5.0.6')).toBe('10.5.0.6');
    expect(() => chooseAddress(base(), 'p/n', 'p-b-1', '10.5.0.2')).toThrow(/already used by p-a-1/);
    expect(() => chooseAddress(base(), 'p/n', 'p-b-1', '10.5.0.7')).toThrow(/not a usable/);
    expect(() => chooseAddress(base(), 'p/n', 'p-b-1', '10.5.0.1')).toThrow(/gateway/);
  });

  it('reports an exhausted subnet', () => {
    const s = base();
    for (const ip of ['10.5.0.3', '10.5.0.4', '10.5.0.5', '10.5.0.6']) s.networks['p/n'].addresses[ip] = ip;
    expect(() => chooseAddress(s, 'p/n', 'late')).toThrow(/no free address/);
  });
});

describe('link names', () => {
  it('base32 is RFC 4648 lowercase', () => {
    expect(base32(Buffer.from('foobar'))).toBe('mzxw6ytboi');
  });

  it('fit in 15 characters, are deterministic and differ between projects and roots', () => {
    const b = bridgeNameFor('/r', 'proj', 'default');
    expect(b).toMatch(/^tsc-[a-z2-7]{11}$/);
    expect(bridgeNameFor('/r', 'proj', 'default')).toBe(b);
    expect(bridgeNameFor('/r', 'proj2', 'default')).not.toBe(b);
    expect(bridgeNameFor('/other', 'proj', 'default')).not.toBe(b);
    const v = vethNameFor('/r', 'proj', 'default', 'proj-web-1');
    expect(v).toMatch(/^tsv[a-z2-7]{12}$/);
    expect(vethNameFor('/r', 'proj', 'default', 'proj-web-2')).not.toBe(v);
    expect(linkAlias('/r', 'proj', 'default', 'c')).toMatch(/^tscompose:[a-z2-7]{8}:proj:default:c$/);
  });
});
