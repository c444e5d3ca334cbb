/**
 * Pseudo-terminals through libc (Node has no pty API): a master/slave pair whose slave is
 * given to a container as stdin/stdout/stderr when `tty: true`.
 */
import { check, fns, libc } from './libc.js';
import { O_CLOEXEC } from './syscalls.js';

const O_RDWR = 2;
const O_NOCTTY = 0o400;

const _posixOpenpt = libc.func('int posix_openpt(int flags)');
const _grantpt = libc.func('int grantpt(int fd)');
const _unlockpt = libc.func('int unlockpt(int fd)');
const _ptsnameR = libc.func('int ptsname_r(int fd, _Out_ uint8_t *buf, size_t len)');
const { open: _open, ioctlBuf: _ioctl } = fns;

const TIOCSWINSZ = 0x5414;

export interface Pty {
  master: number;
  slave: number;
  /** host path of the slave, e.g. /dev/pts/3 */
  path: string;
}

/** Opens a new pty pair (both ends close-on-exec; spawn's stdio mapping clears that for the child). */
export function openPty(): Pty {
  const master = check(_posixOpenpt(O_RDWR | O_NOCTTY | O_CLOEXEC), 'posix_openpt', 'open a pseudo-terminal');
  check(_grantpt(master), 'grantpt', 'grant the pseudo-terminal');
  check(_unlockpt(master), 'unlockpt', 'unlock the pseudo-terminal');
  const buf = Buffer.alloc(128);
  const r = _ptsnameR(master, buf, buf.length);
  if (r !== 0) check(-1, 'ptsname_r', 'name the pseudo-terminal');
  const p = buf.toString('utf8', 0, buf.indexOf(0));
  const slave = check(_open(p, O_RDWR | O_NOCTTY | O_CLOEXEC, 0), 'open', `open ${p}`);
  return { master, slave, path: p };
}

/** Sets the terminal size of a pty (either end). */
export function setWindowSize(fd: number, rows: number, cols: number): void {
  const ws = Buffer.alloc(8);
  ws.writeUInt16LE(rows, 0);
  ws.writeUInt16LE(cols, 2);
  check(_ioctl(fd, TIOCSWINSZ, ws), 'ioctl', 'set the terminal size');
}
