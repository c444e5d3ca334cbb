/**
 * Linux syscalls the engine needs (namespaces, mounts, credentials, capabilities, rlimits,
 * process control), declared once through koffi. Each wrapper throws a SyscallError on failure
 * with the context the caller gives, so a failing step reads "mount /proc: mount failed: EPERM".
 */
import { readdirSync } from 'node:fs';
import { SyscallError } from '../common/errors.js';
import { check, fns, koffi, libc } from './libc.js';

const {
  unshare: _unshare,
  setns: _setns,
  mount: _mount,
  umount2: _umount2,
  prctl: _prctl,
  fcntl: _fcntl,
  open: _open,
  close: _close,
  mknod: _mknod,
  ioctl: _ioctl,
  ioctlInt: _ioctlPtr,
} = fns;

// --- clone / namespace flags -------------------------------------------------------------
export const CLONE_NEWNS = 0x00020000;
export const CLONE_NEWCGROUP = 0x02000000;
export const CLONE_NEWUTS = 0x04000000;
export const CLONE_NEWIPC = 0x08000000;
export const CLONE_NEWUSER = 0x10000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;
export const CLONE_FS = 0x00000200;

// --- mount flags ---------------------------------------------------------------------------
export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;
export const MS_REMOUNT = 32;
export const MS_BIND = 4096;
export const MS_MOVE = 8192;
export const MS_REC = 16384;
export const MS_PRIVATE = 1 << 18;
export const MS_SLAVE = 1 << 19;
export const MS_SHARED = 1 << 20;
export const MS_UNBINDABLE = 1 << 17;
export const MS_STRICTATIME = 1 << 24;
export const MNT_DETACH = 2;

// --- prctl ---------------------------------------------------------------------------------
export const PR_SET_PDEATHSIG = 1;
export const PR_SET_DUMPABLE = 4;
export const PR_SET_KEEPCAPS = 8;
export const PR_CAPBSET_READ = 23;
export const PR_CAPBSET_DROP = 24;
export const PR_SET_NO_NEW_PRIVS = 38;
export const PR_CAP_AMBIENT = 47;
export const PR_CAP_AMBIENT_CLEAR_ALL = 4;

// --- fcntl ---------------------------------------------------------------------------------
export const F_GETFD = 1;
export const F_SETFD = 2;
export const FD_CLOEXEC = 1;

// --- open flags ----------------------------------------------------------------------------
export const O_RDONLY = 0;
export const O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000;
export const O_DIRECTORY = 0o200000;
export const O_NOFOLLOW = 0o400000;

export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;

const SYS_pivot_root = 155;
const SYS_capget = 125;
const SYS_capset = 126;

const _chdir = libc.func('int chdir(const char *path)');
const _fchdir = libc.func('int fchdir(int fd)');
const _chroot = libc.func('int chroot(const char *path)');
const _sethostname = libc.func('int sethostname(const char *name, size_t len)');
const _setdomainname = libc.func('int setdomainname(const char *name, size_t len)');
const _setgroups = libc.func('int setgroups(size_t size, const uint32_t *list)');
const _setresuid = libc.func('int setresuid(uint32_t r, uint32_t e, uint32_t s)');
const _setresgid = libc.func('int setresgid(uint32_t r, uint32_t e, uint32_t s)');
const _execve = libc.func('int execve(const char *path, const char **argv, const char **envp)');
const _dup2 = libc.func('int dup2(int oldfd, int newfd)');
const _kill = libc.func('int kill(int pid, int sig)');
const _setsid = libc.func('int setsid(void)');
const _umask = libc.func('uint32_t umask(uint32_t mask)');

koffi.struct('tsc_rlimit', { cur: 'uint64_t', max: 'uint64_t' });
const _prlimit = libc.func('int prlimit(int pid, int resource, const tsc_rlimit *newlim, _Out_ tsc_rlimit *oldlim)');

const _capcall = libc.func('long syscall(long nr, void *hdr, void *data)');
const _pivot = libc.func('long syscall(long nr, const char *newRoot, const char *putOld)');

const _waitpid = libc.func('int waitpid(int pid, _Out_ int *status, int options)');
const _closeRange = libc.func('long syscall(long nr, unsigned int first, unsigned int last, unsigned int flags)');
const _signal = libc.func('intptr_t signal(int signum, intptr_t handler)');
const _posixSpawn = libc.func('int posix_spawn(_Out_ int *pid, const char *path, void *fileActions, void *attr, const char **argv, const char **envp)');

/**
 * Restores the default action of every catchable signal. Node ignores SIGPIPE and SIGXFSZ,
 * and an ignored disposition survives execve: a container command must not inherit that.
 */
export function resetSignalDispositions(): void {
  for (let sig = 1; sig < 32; sig++) {
    if (sig === 9 || sig === 19) continue;
    _signal(sig, 0);
  }
}

/**
 * Marks every descriptor from `from` up close-on-exec, so nothing the parent leaked reaches
 * the container command (close_range(2), with a /proc/self/fd walk on kernels before 5.11).
 */
export function cloexecFrom(from: number): void {
  const CLOSE_RANGE_CLOEXEC = 4;
  if (Number(_closeRange(436, from, 0xffffffff, CLOSE_RANGE_CLOEXEC)) === 0) return;
  for (const name of readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    if (fd >= from) {
      try {
        setCloexec(fd, true);
      } catch {
        // the directory's own descriptor, closed by now
      }
    }
  }
}

const _spawnattrInit = libc.func('int posix_spawnattr_init(void *attr)');
const _spawnattrSetflags = libc.func('int posix_spawnattr_setflags(void *attr, short flags)');
const _spawnattrSetpgroup = libc.func('int posix_spawnattr_setpgroup(void *attr, int pgroup)');
const POSIX_SPAWN_SETPGROUP = 0x02;
const TIOCSPGRP = 0x5410;

/**
 * posix_spawn (vfork + exec in libc: no JavaScript runs in the child). Returns the pid.
 * `newProcessGroup` puts the child in a process group of its own.
 */
export function posixSpawn(file: string, argv: string[], envp: string[], ctx?: string, newProcessGroup = false): number {
  const pid = [0];
  let attr: Buffer | null = null;
  if (newProcessGroup) {
    attr = Buffer.alloc(1024); // larger than glibc's posix_spawnattr_t (336 bytes)
    _spawnattrInit(attr);
    _spawnattrSetflags(attr, POSIX_SPAWN_SETPGROUP);
    _spawnattrSetpgroup(attr, 0);
  }
  const r = _posixSpawn(pid, file, null, attr, [...argv, null], [...envp, null]);
  if (r !== 0) throw new SyscallError('posix_spawn', r, ctx ?? `spawn ${file}`);
  return pid[0];
}

/** Makes process group `pgid` the foreground group of the terminal on `fd`. */
export function tcsetpgrp(fd: number, pgid: number, ctx = 'tcsetpgrp'): void {
  check(_ioctlPtr(fd, TIOCSPGRP, [pgid]), 'ioctl', ctx);
}

export function unshare(flags: number, ctx = 'unshare'): void {
  check(_unshare(flags), 'unshare', ctx);
}
export function setns(fd: number, nstype: number, ctx = 'setns'): void {
  check(_setns(fd, nstype), 'setns', ctx);
}
export function mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null, ctx?: string): void {
  check(_mount(source, target, fstype, flags, data), 'mount', ctx ?? `mount ${target}`);
}
export function umount2(target: string, flags: number, ctx?: string): void {
  check(_umount2(target, flags), 'umount2', ctx ?? `unmount ${target}`);
}
export function pivotRoot(newRoot: string, putOld: string, ctx = 'pivot_root'): void {
  check(Number(_pivot(SYS_pivot_root, newRoot, putOld)), 'pivot_root', ctx);
}
export function chdir(p: string, ctx?: string): void {
  check(_chdir(p), 'chdir', ctx ?? `chdir ${p}`);
}
export function fchdir(fd: number, ctx = 'fchdir'): void {
  check(_fchdir(fd), 'fchdir', ctx);
}
export function chroot(p: string, ctx?: string): void {
  check(_chroot(p), 'chroot', ctx ?? `chroot ${p}`);
}
export function sethostname(name: string, ctx = 'sethostname'): void {
  check(_sethostname(name, Buffer.byteLength(name)), 'sethostname', ctx);
}
export function setdomainname(name: string, ctx = 'setdomainname'): void {
  check(_setdomainname(name, Buffer.byteLength(name)), 'setdomainname', ctx);
}
export function setgroups(gids: number[], ctx = 'setgroups'): void {
  check(_setgroups(gids.length, gids.length ? gids : null), 'setgroups', ctx);
}
export function setresuid(uid: number, ctx = 'setresuid'): void {
  check(_setresuid(uid, uid, uid), 'setresuid', ctx);
}
export function setresgid(gid: number, ctx = 'setresgid'): void {
  check(_setresgid(gid, gid, gid), 'setresgid', ctx);
}
export function prctl(option: number, a2 = 0, a3 = 0, a4 = 0, a5 = 0, ctx = 'prctl'): number {
  return check(_prctl(option, a2, a3, a4, a5), 'prctl', ctx);
}
/** Only returns on failure (throws). */
export function execve(file: string, argv: string[], envp: string[], ctx?: string): never {
  _execve(file, [...argv, null], [...envp, null]);
  check(-1, 'execve', ctx ?? `exec ${file}`);
  throw new Error('unreachable');
}
export function dup2(oldfd: number, newfd: number, ctx = 'dup2'): void {
  check(_dup2(oldfd, newfd), 'dup2', ctx);
}
export function setCloexec(fd: number, on: boolean, ctx = 'fcntl'): void {
  const cur = check(_fcntl(fd, F_GETFD, 0), 'fcntl', ctx);
  const next = on ? cur | FD_CLOEXEC : cur & ~FD_CLOEXEC;
  check(_fcntl(fd, F_SETFD, next), 'fcntl', ctx);
}
export function open(p: string, flags: number, mode = 0, ctx?: string): number {
  return check(_open(p, flags, mode), 'open', ctx ?? `open ${p}`);
}
export function close(fd: number): void {
  _close(fd);
}
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffff000n) << 32n) | ((ma & 0xfffn) << 8n) | ((mi & 0xffffff00n) << 12n) | (mi & 0xffn);
}
export function mknod(p: string, mode: number, dev: bigint, ctx?: string): void {
  check(_mknod(p, mode, dev), 'mknod', ctx ?? `mknod ${p}`);
}
/** kill(2); returns false when the process does not exist (ESRCH) instead of throwing. */
export function kill(pid: number, sig: number, ctx = 'kill'): boolean {
  const r = _kill(pid, sig);
  if (r < 0) {
    if (koffi.errno() === 3) return false;
    check(r, 'kill', ctx);
  }
  return true;
}
export function setsid(): number {
  return _setsid();
}
export function ioctl(fd: number, req: number, arg: number, ctx = 'ioctl'): number {
  return check(_ioctl(fd, req, arg), 'ioctl', ctx);
}
export function umask(mask: number): number {
  return _umask(mask);
}
export const TIOCSCTTY = 0x540e;

export const RLIM_INFINITY = 0xffffffffffffffffn;
export function getrlimit(resource: number): { cur: bigint; max: bigint } {
  const old: { cur: bigint | number; max: bigint | number } = { cur: 0, max: 0 };
  check(_prlimit(0, resource, null, old), 'prlimit', 'getrlimit');
  return { cur: BigInt(old.cur), max: BigInt(old.max) };
}
export function setrlimit(resource: number, cur: bigint, max: bigint, ctx = 'setrlimit'): void {
  const old = {};
  check(_prlimit(0, resource, { cur, max }, old), 'prlimit', ctx);
}

const CAP_V3 = 0x20080522;
function capHeader(): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32LE(CAP_V3, 0);
  return h;
}
export interface CapSets {
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
}
export function capset(sets: CapSets, ctx = 'capset'): void {
  const lo = (v: bigint) => Number(v & 0xffffffffn);
  const hi = (v: bigint) => Number((v >> 32n) & 0xffffffffn);
  const data = [
    { effective: lo(sets.effective), permitted: lo(sets.permitted), inheritable: lo(sets.inheritable) },
    { effective: hi(sets.effective), permitted: hi(sets.permitted), inheritable: hi(sets.inheritable) },
  ];
  const buf = Buffer.alloc(24);
  data.forEach((d, i) => {
    buf.writeUInt32LE(d.effective >>> 0, i * 12);
    buf.writeUInt32LE(d.permitted >>> 0, i * 12 + 4);
    buf.writeUInt32LE(d.inheritable >>> 0, i * 12 + 8);
  });
  check(Number(_capcall(SYS_capset, capHeader(), buf)), 'capset', ctx);
}
export function capget(): CapSets {
  const buf = Buffer.alloc(24);
  check(Number(_capcall(SYS_capget, capHeader(), buf)), 'capget', 'capget');
  const word = (off: number) => BigInt(buf.readUInt32LE(off)) | (BigInt(buf.readUInt32LE(off + 12)) << 32n);
  return { effective: word(0), permitted: word(4), inheritable: word(8) };
}

/** waitpid; returns [pid, status]. options: WNOHANG = 1. */
export function waitpid(pid: number, options: number): [number, number] {
  const st = [0];
  const r = _waitpid(pid, st, options);
  return [r, st[0]];
}
export const WNOHANG = 1;

export const RLIMIT_RESOURCES: Record<string, number> = {
  cpu: 0,
  fsize: 1,
  data: 2,
  stack: 3,
  core: 4,
  rss: 5,
  nproc: 6,
  nofile: 7,
  memlock: 8,
  as: 9,
  locks: 10,
  sigpending: 11,
  msgqueue: 12,
  nice: 13,
  rtprio: 14,
  rttime: 15,
};
