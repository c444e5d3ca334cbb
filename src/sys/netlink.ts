/**
 * A blocking NETLINK_ROUTE socket through koffi. Requests are sent with NLM_F_ACK and the
 * reply is read at once (the kernel answers rtnetlink requests synchronously); a receive
 * timeout guards against a kernel that never answers. The socket stays in the network
 * namespace of the thread that opened it, so a socket opened after setns() into a
 * container's namespace keeps acting there (src/network/netns.ts).
 */
import { TscError, errnoName } from '../common/errors.js';
import { faultPoint } from './fault.js';
import { E } from './libc.js';
import {
  AF_NETLINK,
  NETLINK_EXT_ACK,
  NETLINK_GET_STRICT_CHK,
  SOCK_CLOEXEC,
  SOCK_RAW,
  SOL_NETLINK,
  SOL_SOCKET,
  SO_RCVBUF,
  SO_RCVTIMEO,
  intOpt,
  koffi,
  sys,
  timevalOpt,
} from './socket.js';
import { NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, type NlMessage, nlmsg, parseError, parseMessages } from './netlink-msg.js';

const NETLINK_ROUTE = 0;
/** set on dump messages when the table changed during the dump */
const NLM_F_DUMP_INTR = 0x10;
const RECV_BUF = 256 * 1024;

const ERRNO_TEXT: Record<number, string> = {
  1: 'operation not permitted',
  2: 'no such file or directory',
  16: 'device or resource busy',
  17: 'already exists',
  19: 'no such device',
  22: 'invalid argument',
  34: 'numerical result out of range',
  95: 'operation not supported',
  99: 'cannot assign requested address',
  101: 'network is unreachable',
};

/** A failed netlink request: errno plus what we were doing and the kernel's own words. */
export class NetlinkError extends TscError {
  readonly errno: number;
  constructor(errno: number, what: string, kernelMessage?: string) {
    const text = ERRNO_TEXT[errno] ? `${ERRNO_TEXT[errno]} (${errnoName(errno)})` : errnoName(errno);
    super('NETWORK', `${what}: ${text}${kernelMessage ? `: ${kernelMessage}` : ''}`, {
      hint: errno === E.EPERM ? 'network setup needs root (CAP_NET_ADMIN)' : undefined,
    });
    this.errno = errno;
  }
}

export class NetlinkSocket {
  private fd: number;
  private seq = Math.floor(Math.random() * 0x7fffffff);
  private readonly buf = Buffer.alloc(RECV_BUF);

  constructor() {
    const fd = sys.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) throw new NetlinkError(koffi.errno(), 'opening a netlink socket');
    this.fd = fd;
    try {
      sys.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, intOpt(RECV_BUF), 4);
      sys.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timevalOpt(5000), 16);
      // Best effort: kernel error strings and strict dump filtering (ignored if unsupported).
      sys.setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, intOpt(1), 4);
      sys.setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, intOpt(1), 4);
      const sa = Buffer.alloc(12);
      sa.writeUInt16LE(AF_NETLINK, 0);
      if (sys.bind(fd, sa, 12) < 0) throw new NetlinkError(koffi.errno(), 'binding a netlink socket');
    } catch (e) {
      sys.close(fd);
      throw e;
    }
  }

  close(): void {
    if (this.fd >= 0) sys.close(this.fd);
    this.fd = -1;
  }

  private send(msg: Buffer, what: string): void {
    if (this.fd < 0) throw new TscError('INTERNAL', `${what}: the netlink socket is closed`);
    const sa = Buffer.alloc(12);
    sa.writeUInt16LE(AF_NETLINK, 0);
    const n = Number(sys.sendto(this.fd, msg, msg.length, 0, sa, 12));
    if (n < 0) throw new NetlinkError(koffi.errno(), `${what} (sending to the kernel)`);
  }

  private recv(what: string): NlMessage[] {
    for (;;) {
      const n = Number(sys.recv(this.fd, this.buf, this.buf.length, 0));
      if (n < 0) {
        const e = koffi.errno();
        if (e === E.EINTR) continue;
        throw new NetlinkError(e, `${what} (waiting for the kernel's answer)`);
      }
      return parseMessages(Buffer.from(this.buf.subarray(0, n)));
    }
  }

  /** Sends one request and waits for its ACK; throws NetlinkError when the kernel refuses. */
  request(type: number, flags: number, body: Buffer[], what: string): void {
    this.untilAck(type, flags, body, what);
    faultPoint(what);
  }

  /**
   * Sends a non-dump GET request with NLM_F_ACK and returns the reply messages that came
   * before the ACK (the kernel sends the object, then the ACK).
   */
  get(type: number, body: Buffer[], what: string): NlMessage[] {
    return this.untilAck(type, 0, body, what);
  }

  /** Sends a request with NLM_F_ACK; returns the replies before the ACK, or throws its error. */
  private untilAck(type: number, flags: number, body: Buffer[], what: string): NlMessage[] {
    const seq = ++this.seq >>> 0;
    this.send(nlmsg(type, flags | NLM_F_REQUEST | NLM_F_ACK, seq, body), what);
    const out: NlMessage[] = [];
    for (;;) {
      for (const m of this.recv(what)) {
        if (m.seq !== seq) continue;
        if (m.type === NLMSG_ERROR) {
          const err = parseError(m);
          if (err.errno !== 0) throw new NetlinkError(err.errno, what, err.message);
          return out;
        }
        out.push(m);
      }
    }
  }

  /**
   * Sends a dump request and gathers every reply message until NLMSG_DONE. A dump the kernel
   * marks as interrupted (the table changed meanwhile) is taken again, up to 5 times.
   */
  dump(type: number, body: Buffer[], what: string): NlMessage[] {
    for (let attempt = 1; ; attempt++) {
      const out = this.dumpOnce(type, body, what);
      if (!out.some((m) => m.flags & NLM_F_DUMP_INTR) || attempt >= 5) return out;
    }
  }

  private dumpOnce(type: number, body: Buffer[], what: string): NlMessage[] {
    const seq = ++this.seq >>> 0;
    this.send(nlmsg(type, NLM_F_REQUEST | NLM_F_DUMP, seq, body), what);
    const out: NlMessage[] = [];
    for (;;) {
      for (const m of this.recv(what)) {
        if (m.seq !== seq) continue;
        if (m.type === NLMSG_DONE) return out;
        if (m.type === NLMSG_NOOP) continue;
        if (m.type === NLMSG_ERROR) {
          const err = parseError(m);
          if (err.errno !== 0) throw new NetlinkError(err.errno, what, err.message);
          return out;
        }
        out.push(m);
      }
    }
  }
}
