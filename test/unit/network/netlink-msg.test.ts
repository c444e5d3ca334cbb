import { describe, expect, it } from 'vitest';
import {
  NLMSG_ERROR,
  NLM_F_ACK_TLVS,
  RTM_NEWLINK,
  attrMap,
  attrStr,
  attrU32,
  nlmsg,
  parseAttrs,
  parseError,
  parseMessages,
  rtattr,
} from '../../../src/sys/netlink-msg.js';
import { build, parseAddr, parseLink, parseRoute } from '../../../src/network/rtnl.js';

describe('netlink message bytes', () => {
  it('pads attributes to 4 bytes and records the unpadded length', () => {
    const a = attrStr(3, 'tsc0');
    expect([...a]).toEqual([9, 0, 3, 0, 0x74, 0x73, 0x63, 0x30, 0, 0, 0, 0]);
    expect([...attrU32(4, 1400)]).toEqual([8, 0, 4, 0, 0x78, 0x05, 0, 0]);
  });

  it('builds an nlmsghdr with the total length', () => {
    const m = nlmsg(RTM_NEWLINK, 0x605, 7, [Buffer.alloc(16), attrStr(3, 'br')]);
    expect(m.length).toBe(16 + 16 + 8);
    expect(m.readUInt32LE(0)).toBe(40);
    expect(m.readUInt16LE(4)).toBe(RTM_NEWLINK);
    expect(m.readUInt16LE(6)).toBe(0x605);
    expect(m.readUInt32LE(8)).toBe(7);
  });

  it('builds a bridge creation request exactly', () => {
    const body = Buffer.concat(build.newBridge('tsc-x', { mtu: 1450 }));
    expect(body.toString('hex')).toBe(
      // ifinfomsg (16 zero bytes)
      '00000000000000000000000000000000' +
        // IFLA_IFNAME "tsc-x\0" (len 10, padded to 12)
        '0a000300' +
        '7473632d7800' +
        '0000' +
        // IFLA_MTU 1450
        '08000400' +
        'aa050000' +
        // IFLA_LINKINFO (nested) { IFLA_INFO_KIND "bridge\0" }
        '10001280' +
        '0b000100' +
        '62726964676500' +
        '00',
    );
  });

  it('nests the veth peer with its namespace fd', () => {
    const body = Buffer.concat(build.newVeth('tsvaaaa', 'eth0', 42));
    const attrs = attrMap(body.subarray(16));
    const info = attrMap(attrs.get(18)!);
    expect(info.get(1)!.toString()).toBe('veth\0');
    const data = attrMap(info.get(2)!);
    const peer = data.get(1)!;
    const peerAttrs = attrMap(peer.subarray(16));
    expect(peerAttrs.get(3)!.toString()).toBe('eth0\0');
    expect(peerAttrs.get(28)!.readUInt32LE(0)).toBe(42);
  });

  it('builds address and default route requests', () => {
    const a = Buffer.concat(build.addr(5, '10.1.2.3', 24));
    expect([...a.subarray(0, 8)]).toEqual([2, 24, 0, 0, 5, 0, 0, 0]);
    expect(parseAddr(a)).toEqual({ index: 5, address: '10.1.2.3', prefixLen: 24 });
    const r = Buffer.concat(build.route({ dst: '0.0.0.0', dstLen: 0, gateway: '10.1.2.1', oif: 5 }));
    const parsed = parseRoute(r)!;
    expect(parsed).toMatchObject({ dst: '0.0.0.0', dstLen: 0, gateway: '10.1.2.1', oif: 5, table: 254 });
  });

  it('parses several messages in one datagram and a link reply', () => {
    const link = Buffer.concat([
      Buffer.from([0, 0, 1, 0, 9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]),
      attrStr(3, 'tsc-y'),
      attrU32(4, 1500),
      attrU32(10, 3),
      rtattr(1, Buffer.from([2, 0, 0, 0, 0, 1])),
      rtattr(18 | 0x8000, attrStr(1, 'veth')),
      attrStr(20, 'tscompose:x:p:n'),
    ]);
    const dgram = Buffer.concat([nlmsg(RTM_NEWLINK, 2, 1, [link]), nlmsg(3, 2, 1, [Buffer.alloc(4)])]);
    const msgs = parseMessages(dgram);
    expect(msgs.map((m) => m.type)).toEqual([RTM_NEWLINK, 3]);
    expect(parseLink(msgs[0].payload)).toEqual({
      index: 9,
      name: 'tsc-y',
      flags: 1,
      up: true,
      mtu: 1500,
      master: 3,
      kind: 'veth',
      alias: 'tscompose:x:p:n',
      mac: '02:00:00:00:00:01',
    });
  });

  it('rejects a message whose length runs past the datagram', () => {
    const m = nlmsg(RTM_NEWLINK, 0, 1, [Buffer.alloc(8)]);
    m.writeUInt32LE(100, 0);
    expect(() => parseMessages(m)).toThrow(/malformed/);
  });

  it('decodes an error with the kernel extended-ack message', () => {
    const orig = nlmsg(RTM_NEWLINK, 0x605, 77, [Buffer.alloc(16)]);
    const payload = Buffer.concat([Buffer.from([0xef, 0xff, 0xff, 0xff]), orig, attrStr(1, 'File exists')]);
    const m = parseMessages(nlmsg(NLMSG_ERROR, NLM_F_ACK_TLVS, 77, [payload]))[0];
    expect(parseError(m)).toEqual({ errno: 17, seq: 77, message: 'File exists' });
  });

  it('masks the nested flag off attribute types', () => {
    expect(parseAttrs(rtattr(18 | 0x8000, Buffer.alloc(4)))[0].type).toBe(18);
  });
});
