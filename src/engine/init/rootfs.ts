/**
 * The container's root before pivot_root: the overlay root, /dev (a tmpfs with the standard
 * nodes, devpts, shm, mqueue) and `devices:` nodes, /sys, the container's own cgroup
 * directories, the /etc files. Paths are host paths under the new root.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, symlinkSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import {
  MS_BIND,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_RDONLY,
  MS_REC,
  MS_REMOUNT,
  MS_STRICTATIME,
  S_IFBLK,
  S_IFCHR,
  chdir,
  makedev,
  mknod,
  mount,
} from '../../sys/syscalls.js';
import type { InitConfig } from '../protocol.js';
import type { ContainerSpec } from '../spec.js';
import { makeTarget, resolveInRoot } from './paths.js';
import { StepError } from './step.js';

const DEVICES: Array<[string, number, number]> = [
  ['null', 1, 3],
  ['zero', 1, 5],
  ['full', 1, 7],
  ['random', 1, 8],
  ['urandom', 1, 9],
  ['tty', 5, 0],
];

export function mountOverlay(spec: ContainerSpec, rootfs: string): void {
  const upper = path.join(spec.bundleDir, 'upper');
  const work = path.join(spec.bundleDir, 'work');
  const all = [...spec.rootfs.lowerDirs, upper, work];
  for (const p of all) {
    if (/[,:]/.test(p)) throw new StepError('rootfs', `layer path ${p} contains "," or ":", which overlayfs cannot take`);
  }
  let opts = `lowerdir=${spec.rootfs.lowerDirs.join(':')},upperdir=${upper},workdir=${work}`;
  if (opts.length > 3900) {
    // Mount data is limited to one page: use paths relative to their common parent.
    let common = path.dirname(all[0]);
    while (!all.every((p) => p.startsWith(common + '/'))) common = path.dirname(common);
    chdir(common);
    const rel = (p: string) => path.relative(common, p);
    opts = `lowerdir=${spec.rootfs.lowerDirs.map(rel).join(':')},upperdir=${rel(upper)},workdir=${rel(work)}`;
  }
  try {
    mount('overlay', rootfs, 'overlay', 0, opts, 'mount overlay root');
  } catch (e) {
    throw new StepError(
      'rootfs',
      (e as Error).message,
      'the state root must be on a filesystem overlayfs accepts as upper dir (ext4, xfs, btrfs, tmpfs; not overlayfs or NFS), and every layer directory must exist',
    );
  }
}

export function setupDev(rootfs: string, privileged: boolean, shmSize: number | undefined): void {
  const dev = makeTarget(rootfs, '/dev', false);
  if (privileged) {
    mount('/dev', dev, null, MS_BIND | MS_REC, null, 'bind host /dev');
    return;
  }
  mount('tmpfs', dev, 'tmpfs', MS_NOSUID | MS_STRICTATIME, 'mode=755,size=65536k', 'mount /dev tmpfs');
  for (const [name, ma, mi] of DEVICES) {
    const p = path.join(dev, name);
    mknod(p, S_IFCHR | 0o666, makedev(ma, mi), `mknod /dev/${name}`);
    chmodSync(p, 0o666);
  }
  mkdirSync(path.join(dev, 'pts'), { mode: 0o755 });
  mount('devpts', path.join(dev, 'pts'), 'devpts', MS_NOSUID | MS_NOEXEC, 'newinstance,ptmxmode=0666,mode=0620,gid=5', 'mount /dev/pts');
  symlinkSync('pts/ptmx', path.join(dev, 'ptmx'));
  mkdirSync(path.join(dev, 'shm'), { mode: 0o1777 });
  mount('shm', path.join(dev, 'shm'), 'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, `mode=1777,size=${shmSize ?? 64 * 1024 * 1024}`, 'mount /dev/shm');
  mkdirSync(path.join(dev, 'mqueue'), { mode: 0o755 });
  mount('mqueue', path.join(dev, 'mqueue'), 'mqueue', MS_NOSUID | MS_NODEV | MS_NOEXEC, null, 'mount /dev/mqueue');
  symlinkSync('/proc/self/fd', path.join(dev, 'fd'));
  symlinkSync('/proc/self/fd/0', path.join(dev, 'stdin'));
  symlinkSync('/proc/self/fd/1', path.join(dev, 'stdout'));
  symlinkSync('/proc/self/fd/2', path.join(dev, 'stderr'));
}

/** `devices:` nodes, created in the container's /dev (the device cgroup allows them). */
export function createDevices(rootfs: string, devices: InitConfig['devices']): void {
  for (const d of devices ?? []) {
    const target = resolveInRoot(rootfs, d.containerPath);
    makeTarget(rootfs, path.posix.dirname(d.containerPath), false);
    try {
      unlinkSync(target);
    } catch {
      // nothing there
    }
    mknod(target, (d.type === 'c' ? S_IFCHR : S_IFBLK) | d.mode, makedev(d.major, d.minor), `mknod ${d.containerPath}`);
    chmodSync(target, d.mode);
    chownSync(target, d.uid, d.gid);
  }
}

/** sysfs, read-only unless privileged (as Docker). */
export function mountSys(rootfs: string, privileged: boolean): void {
  const t = makeTarget(rootfs, '/sys', false);
  if (privileged) mount('sysfs', t, 'sysfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, null, 'mount /sys');
  else mount('sysfs', t, 'sysfs', MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, null, 'mount /sys read-only');
}

/** The container's own cgroup directories, read-only (rw when privileged), under /sys/fs/cgroup. */
export function mountCgroupViews(rootfs: string, views: InitConfig['cgroupViews'], privileged: boolean): void {
  if (!views.length) return;
  const base = path.join(rootfs, 'sys/fs/cgroup');
  if (!existsSync(base)) return;
  const ro = privileged ? 0 : MS_RDONLY;
  const bind = (src: string, dst: string) => {
    mount(src, dst, null, MS_BIND, null, `bind ${src}`);
    mount(null, dst, null, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC | ro, null, `remount ${dst}`);
  };
  if (views.length === 1 && views[0].name === '') {
    bind(views[0].dir, base);
    return;
  }
  mount('tmpfs', base, 'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, 'mode=755', 'mount /sys/fs/cgroup tmpfs');
  for (const v of views) {
    const dst = path.join(base, v.name);
    mkdirSync(dst);
    bind(v.dir, dst);
    // co-mounted controllers ("cpu,cpuacct") are also reachable by each name, as on the host
    for (const part of v.name.split(',')) {
      if (part !== v.name && !existsSync(path.join(base, part))) symlinkSync(v.name, path.join(base, part));
    }
  }
  mount(null, base, null, MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, 'mode=755', 'remount /sys/fs/cgroup read-only');
}

/** /etc/hosts, /etc/hostname, /etc/resolv.conf from the bundle. */
export function bindEtcFiles(rootfs: string, bundleDir: string): void {
  for (const name of ['hosts', 'hostname', 'resolv.conf']) {
    const src = path.join(bundleDir, 'etc', name);
    const t = makeTarget(rootfs, `/etc/${name}`, true);
    mount(src, t, null, MS_BIND, null, `bind /etc/${name}`);
  }
}
