/**
 * libc socket calls used by the netlink client (src/sys/netlink.ts). Buffers passed as
 * `void *` are handed to libc by reference, so the kernel writes straight into them.
 */
import { fns, libc, koffi } from './libc.js';

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_NETLINK = 16;
export const SOCK_RAW = 3;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_RCVBUF = 8;
export const SO_SNDBUF = 7;
export const SO_RCVTIMEO = 20;
export const SOL_NETLINK = 270;
export const NETLINK_EXT_ACK = 11;
export const NETLINK_GET_STRICT_CHK = 12;

export const sys = {
  socket: libc.func('int socket(int domain, int type, int protocol)') as (d: number, t: number, p: number) => number,
  bind: libc.func('int bind(int fd, const void *addr, uint32_t len)') as (fd: number, addr: Buffer, len: number) => number,
  sendto: libc.func('intptr_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t alen)') as (
    fd: number,
    buf: Buffer,
    len: number,
    flags: number,
    addr: Buffer | null,
    alen: number,
  ) => number | bigint,
  recv: libc.func('intptr_t recv(int fd, void *buf, size_t len, int flags)') as (fd: number, buf: Buffer, len: number, flags: number) => number | bigint,
  setsockopt: libc.func('int setsockopt(int fd, int level, int name, const void *val, uint32_t len)') as (
    fd: number,
    level: number,
    name: number,
    val: Buffer,
    len: number,
  ) => number,
  getsockname: libc.func('int getsockname(int fd, void *addr, void *alen)') as (fd: number, addr: Buffer, alen: Buffer) => number,
  close: fns.close,
};

export { koffi };

/** An int option value as the kernel expects it. */
export function intOpt(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v, 0);
  return b;
}

/** struct timeval for SO_RCVTIMEO. */
export function timevalOpt(ms: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeBigInt64LE(BigInt(Math.floor(ms / 1000)), 0);
  b.writeBigInt64LE(BigInt((ms % 1000) * 1000), 8);
  return b;
}
