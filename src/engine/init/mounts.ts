/**
 * The user's mounts (bind mounts and tmpfs, shallowest target first) and Docker's masked and
 * read-only paths, inside the new root before pivot_root.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  MS_BIND,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_REMOUNT,
  MS_SHARED,
  MS_SLAVE,
  MS_STRICTATIME,
  mount,
} from '../../sys/syscalls.js';
import type { BindMount, Mount, TmpfsMount } from '../spec.js';
import { atTarget, makeTarget, resolveInRoot } from './paths.js';
import { StepError } from './step.js';

export const DEFAULT_MASKED_PATHS = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];
export const DEFAULT_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

const PROPAGATION: Record<string, number> = {
  rprivate: MS_REC | MS_PRIVATE,
  private: MS_PRIVATE,
  rshared: MS_REC | MS_SHARED,
  shared: MS_SHARED,
  rslave: MS_REC | MS_SLAVE,
  slave: MS_SLAVE,
};

function mountBind(rootfs: string, m: BindMount): void {
  let st;
  try {
    st = statSync(m.source);
  } catch {
    throw new StepError('volumes', `bind source ${m.source} does not exist (target ${m.target})`);
  }
  const target = makeTarget(rootfs, m.target, !st.isDirectory());
  atTarget(rootfs, target, (t) => mount(m.source, t, null, MS_BIND | MS_REC, null, `bind ${m.source} on ${m.target}`));
  // opened again: the path now leads to the new mount
  if (m.readonly) {
    atTarget(rootfs, target, (t) => mount(null, t, null, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, null, `make ${m.target} read-only`));
  }
  const prop = m.propagation;
  if (prop) atTarget(rootfs, target, (t) => mount(null, t, null, PROPAGATION[prop], null, `set ${prop} on ${m.target}`));
}

/** tmpfs flag options: the flag each sets (true) or clears (false). */
const TMPFS_FLAGS: Record<string, [number, boolean]> = {
  ro: [MS_RDONLY, true],
  rw: [MS_RDONLY, false],
  noexec: [MS_NOEXEC, true],
  exec: [MS_NOEXEC, false],
  nosuid: [MS_NOSUID, true],
  suid: [MS_NOSUID, false],
  nodev: [MS_NODEV, true],
  dev: [MS_NODEV, false],
  // MS_NOATIME, MS_NODIRATIME, MS_RELATIME (<sys/mount.h>)
  noatime: [1024, true],
  atime: [1024, false],
  nodiratime: [2048, true],
  diratime: [2048, false],
  relatime: [1 << 21, true],
  strictatime: [MS_STRICTATIME, true],
};

function mountTmpfs(rootfs: string, m: TmpfsMount): void {
  const target = makeTarget(rootfs, m.target, false);
  const opts: string[] = [];
  if (m.size !== undefined) opts.push(`size=${m.size}`);
  opts.push(`mode=${(m.mode ?? 0o1777).toString(8)}`);
  let flags = MS_NOSUID | MS_NODEV | (m.readonly ? MS_RDONLY : 0);
  for (const o of m.options ?? []) {
    const f = TMPFS_FLAGS[o];
    if (f) flags = f[1] ? flags | f[0] : flags & ~f[0];
    else if (/^(uid|gid|nr_inodes|nr_blocks)=\d+[kmg]?$/i.test(o)) opts.push(o);
    else throw new StepError('volumes', `unknown tmpfs option ${JSON.stringify(o)} (target ${m.target})`);
  }
  atTarget(rootfs, target, (t) => mount('tmpfs', t, 'tmpfs', flags, opts.join(','), `mount tmpfs on ${m.target}`));
}

export function maskPaths(rootfs: string, masked: string[], readonly: string[]): void {
  for (const p of masked) {
    const t = resolveInRoot(rootfs, p);
    if (!existsSync(t)) continue;
    if (statSync(t).isDirectory()) mount('tmpfs', t, 'tmpfs', MS_RDONLY, null, `mask ${p}`);
    else mount(path.join(rootfs, 'dev/null'), t, null, MS_BIND, null, `mask ${p}`);
  }
  for (const p of readonly) {
    const t = resolveInRoot(rootfs, p);
    if (!existsSync(t)) continue;
    mount(t, t, null, MS_BIND | MS_REC, null, `read-only ${p}`);
    mount(null, t, null, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, null, `read-only ${p}`);
  }
}

function depth(p: string): number {
  return p.split('/').filter(Boolean).length;
}

/** The spec's mounts, parents before children. */
export function mountVolumes(rootfs: string, mounts: Mount[]): void {
  for (const m of [...mounts].sort((a, b) => depth(a.target) - depth(b.target))) {
    if (m.type === 'bind') mountBind(rootfs, m);
    else mountTmpfs(rootfs, m);
  }
}
