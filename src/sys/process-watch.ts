/**
 * Watching processes this process did not fork (the supervisor's re-adopted containers):
 * pidfd_open + poll to learn that one exited, and the kernel's process events connector to
 * learn its exit code (only a parent can wait for a process).
 */
import { E, check, errno, fns, libc } from './libc.js';
import { SyscallError } from '../common/errors.js';
import { AF_NETLINK, SOCK_CLOEXEC, SOL_SOCKET, SO_RCVBUF, intOpt, sys as sock } from './socket.js';

const pidfdOpenFn = libc.func('int pidfd_open(int pid, unsigned int flags)') as (pid: number, flags: number) => number;
const pollFn = libc.func('int poll(void *fds, unsigned long nfds, int timeout)') as (fds: Buffer, nfds: number, timeout: number) => number;
const POLLIN = 0x1;

/** A pidfd for `pid`, or null when the process is gone (ESRCH). */
export function pidfdOpen(pid: number): number | null {
  const ret = pidfdOpenFn(pid, 0);
  if (ret < 0) {
    const e = errno();
    if (e === E.ESRCH) return null;
    throw new SyscallError('pidfd_open', e, `watching process ${pid}`);
  }
  return ret;
}

/** True once the process behind the pidfd has exited (never blocks). */
export function pidfdExited(fd: number): boolean {
  const buf = Buffer.alloc(8);
  buf.writeInt32LE(fd, 0);
  buf.writeInt16LE(POLLIN, 4);
  const ret = check(pollFn(buf, 1, 0), 'poll', 'checking a watched process');
  return ret > 0 && (buf.readInt16LE(6) & POLLIN) !== 0;
}

export function closeFd(fd: number): void {
  fns.close(fd);
}

const NETLINK_CONNECTOR = 11;
const CN_IDX_PROC = 1;
const CN_VAL_PROC = 1;
const PROC_EVENT_EXIT = 0x80000000;

/**
 * Exit statuses of processes this process did not fork, from the kernel's process events
 * connector (NETLINK_CONNECTOR, CN_IDX_PROC): a supervisor that re-adopted the containers of a
 * previous one learns their exit codes here. Needs root and the initial network namespace (the
 * connector lives only there); open() returns null where the kernel offers no such events,
 * and exit codes stay unknown.
 */
export class ProcExitEvents {
  private readonly buf = Buffer.alloc(64 * 1024);
  /** the kernel dropped events (socket buffer overflow) since the socket was opened */
  lost = false;

  private constructor(private fd: number) {}

  static open(): ProcExitEvents | null {
    const SOCK_DGRAM = 2;
    const SOCK_NONBLOCK = 0o4000;
    const SO_RCVBUFFORCE = 33;
    const fd = sock.socket(AF_NETLINK, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_CONNECTOR);
    if (fd < 0) return null;
    try {
      const sa = Buffer.alloc(12);
      sa.writeUInt16LE(AF_NETLINK, 0);
      sa.writeUInt32LE(CN_IDX_PROC, 8); // multicast group
      if (sock.bind(fd, sa, 12) < 0) throw new Error('bind');
      // room for bursts of exits on a busy machine between two drains
      if (sock.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, intOpt(4 << 20), 4) < 0) sock.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, intOpt(4 << 20), 4);
      // nlmsghdr (16) + cn_msg (20) + PROC_CN_MCAST_LISTEN
      const msg = Buffer.alloc(40);
      msg.writeUInt32LE(40, 0);
      msg.writeUInt16LE(3, 4); // NLMSG_DONE
      msg.writeUInt32LE(CN_IDX_PROC, 16);
      msg.writeUInt32LE(CN_VAL_PROC, 20);
      msg.writeUInt16LE(4, 32); // payload length
      msg.writeUInt32LE(1, 36); // PROC_CN_MCAST_LISTEN
      const to = Buffer.alloc(12);
      to.writeUInt16LE(AF_NETLINK, 0);
      if (Number(sock.sendto(fd, msg, msg.length, 0, to, 12)) < 0) throw new Error('listen');
      return new ProcExitEvents(fd);
    } catch {
      sock.close(fd);
      return null;
    }
  }

  /** The exits queued since the last call, as pid → exit code (128 + n when killed by signal n). */
  drain(): Map<number, number> {
    const exits = new Map<number, number>();
    const MSG_DONTWAIT = 0x40;
    while (this.fd >= 0) {
      const n = Number(sock.recv(this.fd, this.buf, this.buf.length, MSG_DONTWAIT));
      if (n < 0) {
        const e = errno();
        if (e === E.ENOBUFS) {
          this.lost = true; // some were dropped; the socket goes on
          continue;
        }
        if (e === E.EINTR) continue;
        break; // EAGAIN: nothing more
      }
      for (let off = 0; off + 16 <= n;) {
        const len = this.buf.readUInt32LE(off);
        if (len < 16 || off + len > n) break;
        // proc_event after nlmsghdr + cn_msg: what, cpu, timestamp, then the exit fields
        if (len >= 16 + 20 + 32 && this.buf.readUInt32LE(off + 36) === PROC_EVENT_EXIT) {
          const pid = this.buf.readUInt32LE(off + 52);
          const tgid = this.buf.readUInt32LE(off + 56);
          const status = this.buf.readUInt32LE(off + 60);
          if (pid === tgid) {
            const sig = status & 0x7f;
            exits.set(pid, sig === 0 ? (status >> 8) & 0xff : 128 + sig);
          }
        }
        off += (len + 3) & ~3;
      }
    }
    return exits;
  }

  close(): void {
    if (this.fd >= 0) sock.close(this.fd);
    this.fd = -1;
  }
}
