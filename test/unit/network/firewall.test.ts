import { describe, expect, it } from 'vitest';
import { IPT_CHAIN, iptablesRestoreScript, needsForwarding, nftScript, type FirewallEntry } from '../../../src/network/firewall-rules.js';
import { upstreamResolvers } from '../../../src/network/etc-files.js';
import { containerMacFor } from '../../../src/network/names.js';

const front: FirewallEntry = { bridge: 'tsc-front00000', subnet: '172.18.0.0/16', internal: false, owner: 'tscompose:abcdefgh:demo:front' };
const back: FirewallEntry = { bridge: 'tsc-back000000', subnet: '172.19.0.0/16', internal: true, owner: 'tscompose:abcdefgh:demo:back' };

describe('nftables table', () => {
  it('isolates every bridge, keeps internal networks in, masquerades only egress networks', () => {
    expect(nftScript([front, back])).toBe(
      [
        'add table ip tscompose',
        'delete table ip tscompose',
        'table ip tscompose {',
        '  chain forward {',
        '    type filter hook forward priority filter - 10; policy accept;',
        '    iifname "tsc-back000000" oifname != "tsc-back000000" drop comment "tscompose:abcdefgh:demo:back"',
        '    oifname "tsc-back000000" iifname != "tsc-back000000" drop comment "tscompose:abcdefgh:demo:back"',
        '    iifname "tsc-front00000" oifname != "tsc-front00000" oifname "tsc-*" drop comment "tscompose:abcdefgh:demo:front"',
        '    oifname "tsc-front00000" iifname != "tsc-front00000" ct state != { established, related } drop comment "tscompose:abcdefgh:demo:front"',
        '  }',
        '  chain postrouting {',
        '    type nat hook postrouting priority srcnat; policy accept;',
        '    ip saddr 172.18.0.0/16 oifname != "tsc-front00000" masquerade comment "tscompose:abcdefgh:demo:front"',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('with no networks it only removes the table', () => {
    expect(nftScript([])).toBe('add table ip tscompose\ndelete table ip tscompose\n');
  });

  it('refuses names and subnets that could not come from us, and cuts long comments', () => {
    expect(() => nftScript([{ ...front, bridge: 'x" accept;' }])).toThrow(/not an interface name/);
    expect(() => nftScript([{ ...front, subnet: '1.2.3.4/8; flush ruleset' }])).toThrow(/not an IPv4 subnet/);
    const long = nftScript([{ ...front, owner: `tscompose:x:${'p'.repeat(300)}"` }]);
    const c = /comment "([^"]*)"/.exec(long)![1]!;
    expect(Buffer.byteLength(c)).toBeLessThanOrEqual(120);
  });
});

describe('iptables accept chain', () => {
  it('accepts within each bridge, and out and back for egress networks only', () => {
    expect(iptablesRestoreScript([front, back]).split('\n')).toEqual([
      '*filter',
      `:${IPT_CHAIN} - [0:0]`,
      `-A ${IPT_CHAIN} -i tsc-back000000 -o tsc-back000000 -m comment --comment "tscompose:abcdefgh:demo:back" -j ACCEPT`,
      `-A ${IPT_CHAIN} -i tsc-front00000 -o tsc-front00000 -m comment --comment "tscompose:abcdefgh:demo:front" -j ACCEPT`,
      `-A ${IPT_CHAIN} -i tsc-front00000 ! -o tsc-front00000 -m comment --comment "tscompose:abcdefgh:demo:front" -j ACCEPT`,
      `-A ${IPT_CHAIN} -o tsc-front00000 -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "tscompose:abcdefgh:demo:front" -j ACCEPT`,
      'COMMIT',
      '',
    ]);
    expect(needsForwarding([back])).toBe(false);
    expect(needsForwarding([back, front])).toBe(true);
  });
});

describe('upstream resolvers', () => {
  it('skips loopback stubs for the stub upstreams when known, and uses the stub only as a last resort', () => {
    expect(upstreamResolvers('nameserver 127.0.0.53\nnameserver 10.0.0.2\n')).toEqual(['10.0.0.2']);
    expect(upstreamResolvers('nameserver 127.0.0.53\noptions edns0\n', 'nameserver 192.168.1.1\nnameserver 127.0.0.1\n')).toEqual(['192.168.1.1']);
    expect(upstreamResolvers('nameserver 127.0.0.53\n', '')).toEqual(['127.0.0.53']);
    expect(upstreamResolvers('')).toEqual([]);
  });
});

describe('container MAC', () => {
  it('follows the address, locally administered and unicast', () => {
    expect(containerMacFor('172.18.0.2')).toBe('02:74:ac:12:00:02');
    expect(containerMacFor('10.255.0.17')).toBe('02:74:0a:ff:00:11');
    expect(() => containerMacFor('10.0.0')).toThrow(RangeError);
  });
});
