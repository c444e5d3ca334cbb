/**
 * Persistent network namespace files. A namespace is made on Node's main thread with
 * unshare(CLONE_NEWNET), pinned by bind-mounting /proc/thread-self/ns/net onto an empty
 * file, and the thread then returns to its original namespace with setns() on a descriptor
 * kept from before. All of it is synchronous, so no other JavaScript runs in between; libuv's
 * pool threads never change namespace. The engine's init joins these files with setns().
 */
import { closeSync, existsSync, mkdirSync, openSync, unlinkSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { TscError, errnoName } from '../common/errors.js';
import { koffi } from '../sys/libc.js';
import { CLONE_NEWNET, MNT_DETACH, MS_BIND, O_CLOEXEC, O_RDONLY, nsys } from '../sys/netlink-ns.js';
import { NetlinkSocket } from '../sys/netlink.js';
import { Rtnl } from './rtnl.js';
import { faultPoint } from '../sys/fault.js';

let hostNetFd = -1;

/** A descriptor on the main thread's own network namespace, opened once, before any switch. */
function hostNetns(): number {
  if (hostNetFd < 0) {
    const fd = nsys.open('/proc/thread-self/ns/net', O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) throw sysErr('opening /proc/thread-self/ns/net', koffi.errno());
    hostNetFd = fd;
  }
  return hostNetFd;
}

function sysErr(what: string, errno: number, hint?: string): TscError {
  return new TscError('NETWORK', `${what}: ${errnoName(errno)} (${errno})`, hint ? { hint } : {});
}

function restore(what: string): void {
  if (nsys.setns(hostNetns(), CLONE_NEWNET) < 0) {
    // The main thread would stay in the wrong namespace: nothing sane can continue.
    throw new TscError('INTERNAL', `${what}: could not return to the original network namespace (${errnoName(koffi.errno())})`);
  }
}

/** True when `p` is a mount point (a live netns file is one). */
export function isMounted(p: string): boolean {
  const abs = path.resolve(p);
  try {
    return readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .some((l) => l.split(' ')[4] === abs);
  } catch {
    return false;
  }
}

/** Creates a new network namespace pinned at `file` (made empty first). Loopback is brought up. */
export function createNetns(file: string): void {
  const host = hostNetns();
  mkdirSync(path.dirname(file), { recursive: true });
  if (isMounted(file)) throw new TscError('NETWORK', `network namespace file ${file} already exists and is in use`);
  closeSync(openSync(file, 'w', 0o444));
  if (nsys.unshare(CLONE_NEWNET) < 0) {
    const e = koffi.errno();
    unlinkSync(file);
    throw sysErr(`creating a network namespace for ${file}: unshare`, e, 'this needs root (CAP_SYS_ADMIN)');
  }
  let failure: TscError | undefined;
  let sock: NetlinkSocket | undefined;
  try {
    if (nsys.mount('/proc/thread-self/ns/net', file, null, MS_BIND, null) < 0) {
      failure = sysErr(`pinning network namespace at ${file}: bind mount`, koffi.errno());
    } else {
      sock = new NetlinkSocket();
    }
  } catch (e) {
    failure = e instanceof TscError ? e : new TscError('NETWORK', `setting up network namespace ${file}: ${String(e)}`, { cause: e });
  } finally {
    if (nsys.setns(host, CLONE_NEWNET) < 0) {
      failure = new TscError('INTERNAL', `could not return to the original network namespace after creating ${file}`);
    }
  }
  if (failure) {
    sock?.close();
    nsys.umount2(file, MNT_DETACH);
    try {
      unlinkSync(file);
    } catch {
      /* already gone */
    }
    throw failure;
  }
  faultPoint(`netns ${file}`);
  const rt = new Rtnl(sock);
  try {
    const lo = rt.requireLink('lo');
    rt.setLink(lo.index, { up: true }, `lo in ${file}`);
  } catch (e) {
    rt.close();
    deleteNetns(file);
    throw e;
  }
  rt.close();
}

/** Unpins and removes a namespace file; a missing file is not an error. */
export function deleteNetns(file: string): void {
  if (!existsSync(file)) return;
  if (nsys.umount2(file, MNT_DETACH) < 0) {
    const e = koffi.errno();
    if (e !== 22 && e !== 2) throw sysErr(`unmounting network namespace ${file}`, e); // EINVAL: not a mount
  }
  try {
    unlinkSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new TscError('NETWORK', `removing network namespace file ${file}: ${(e as Error).message}`, { cause: e });
    }
  }
  faultPoint(`delete netns ${file}`);
}

/** Opens a descriptor on a namespace file (caller closes it with closeNsFd). */
export function openNsFd(file: string): number {
  const fd = nsys.open(file, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) throw sysErr(`opening network namespace ${file}`, koffi.errno());
  return fd;
}

export function closeNsFd(fd: number): void {
  nsys.close(fd);
}

/**
 * Opens an rtnetlink socket inside the namespace at `file` and runs `fn` with it. The thread
 * is back in its own namespace before `fn` runs; the socket keeps acting in the target one.
 */
function openRtnlIn(file: string): Rtnl {
  const fd = openNsFd(file);
  hostNetns();
  try {
    if (nsys.setns(fd, CLONE_NEWNET) < 0) throw sysErr(`entering network namespace ${file}`, koffi.errno());
    let sock: NetlinkSocket;
    try {
      sock = new NetlinkSocket();
    } finally {
      restore(`opening a netlink socket in ${file}`);
    }
    return new Rtnl(sock);
  } finally {
    nsys.close(fd);
  }
}

export function withNetns<T>(file: string, fn: (rt: Rtnl) => T): T {
  const rt = openRtnlIn(file);
  let async = false;
  try {
    const r = fn(rt);
    if (r instanceof Promise) {
      async = true;
      return r.finally(() => rt.close()) as T;
    }
    return r;
  } finally {
    if (!async) rt.close();
  }
}
