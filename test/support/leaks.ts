/**
 * The leak counter: a snapshot of everything tscompose can leave on a host for the state roots
 * given (and the projects under them), and the difference between two snapshots. Used by the
 * soak (scripts/soak.sh, test/integration/reliability) and the fault-injection sweep.
 *
 * Scoped, so that tests running at the same time under other state roots never count:
 * - links: host links whose alias is `tscompose:<roottag>:…` (names.ts), and the projects'
 *   bridges (by their hashed names) with no alias (a kill between creating and naming one; a veth
 *   without alias goes with its container's netns, which is counted);
 * - netns: files under <root>/projects/<p>/netns/, and nsfs mounts under the root;
 * - mounts: /proc/self/mountinfo entries under the root or a path naming one of the projects;
 * - cgroups: directories under tscompose/<project> in every v1 hierarchy and the v2 tree;
 * - firewall: rules of `ip tscompose` and of iptables' TSCOMPOSE-FORWARD whose comment names the
 *   root's tag, entries of the firewall record (/run/tscompose/firewall.net-<inode>.json) owned by it, and extra jumps to the chain;
 * - processes: supervisors of the root (by command line), and every process in a cgroup of one
 *   of the projects (init stages, containers), plus each supervisor's open fds and RSS;
 * - files: every file and folder under the root (images/ counted, not listed, except its
 *   temporaries: entries of blobs/tmp and layers/tmp, atomic-write temp files).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, lstatSync } from 'node:fs';
import path from 'node:path';
import { bridgeNameFor, rootTag } from '../../src/network/names.js';
import { firewallRecordPath } from '../../src/network/firewall.js';

export interface LeakScope {
  /** state roots (TSCOMPOSE_ROOT) to count */
  roots: string[];
  /** project names to count cgroups and processes of; default: every project folder under the roots */
  projects?: string[];
}

export interface Snapshot {
  /** category → the items found (comparable strings) */
  items: Record<string, string[]>;
  /** supervisor pid → open fds and RSS in KiB */
  supervisors: Record<string, { fds: number; rssKiB: number }>;
}

export const CATEGORIES = ['links', 'netns', 'mounts', 'cgroups', 'firewall', 'processes', 'files'] as const;

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout : '';
}

function ls(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function projectsOf(scope: LeakScope): string[] {
  const found = new Set(scope.projects ?? []);
  for (const root of scope.roots) for (const p of ls(path.join(root, 'projects'))) found.add(p);
  return [...found];
}

/** The bridges the projects have or would have: their default network's and every recorded one. */
function ownBridges(roots: string[], projects: string[]): Set<string> {
  const names = new Set<string>();
  for (const root of roots) {
    for (const p of projects) {
      names.add(bridgeNameFor(root, p, `${p}_default`));
      try {
        const state = JSON.parse(readFileSync(path.join(root, 'projects', p, 'state.json'), 'utf8')) as { networks?: Record<string, { bridge?: string }> };
        for (const n of Object.values(state.networks ?? {})) if (n.bridge) names.add(n.bridge);
      } catch {
        /* no record */
      }
    }
  }
  return names;
}

function links(tags: string[], own: Set<string>): string[] {
  const out: string[] = [];
  // `ip -o -d link` prints "N: name@peer: <...> ... alias tscompose:..." per link
  for (const line of sh('ip', ['-o', 'link', 'show']).split('\n')) {
    const m = /^\d+:\s+([^:@\s]+)/.exec(line);
    if (!m) continue;
    const alias = /\balias (\S+)/.exec(line)?.[1];
    if (alias ? tags.some((t) => alias.startsWith(`tscompose:${t}:`)) : own.has(m[1])) out.push(`${m[1]} ${alias ?? '(no alias)'}`);
  }
  return out;
}

function mountsAndNetns(roots: string[], projects: string[]): { mounts: string[]; netns: string[] } {
  const mounts: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    const point = f[4];
    if (!point) continue;
    const fstype = f[f.indexOf('-') + 1];
    if (roots.some((r) => point === r || point.startsWith(r + '/')) || projects.some((p) => point.includes(`/${p}/`) || point.endsWith(`/${p}`))) {
      mounts.push(`${point} ${fstype}`);
    }
  }
  const netns: string[] = [];
  for (const root of roots) {
    for (const p of ls(path.join(root, 'projects'))) for (const n of ls(path.join(root, 'projects', p, 'netns'))) netns.push(`${p}/${n}`);
  }
  return { mounts, netns };
}

function cgroups(projects: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    out.push(rel);
    for (const e of ls(dir)) {
      const p = path.join(dir, e);
      try {
        if (lstatSync(p).isDirectory()) walk(p, `${rel}/${e}`);
      } catch {
        /* removed meanwhile */
      }
    }
  };
  for (const ctrl of ls('/sys/fs/cgroup')) {
    for (const p of projects) {
      const dir = path.join('/sys/fs/cgroup', ctrl, 'tscompose', p);
      if (existsSync(dir)) walk(dir, `${ctrl}/tscompose/${p}`);
    }
  }
  return out;
}

function firewall(tags: string[]): string[] {
  const out: string[] = [];
  const ours = (s: string) => tags.some((t) => s.includes(`tscompose:${t}:`));
  for (const line of sh('nft', ['list', 'table', 'ip', 'tscompose']).split('\n')) if (ours(line)) out.push(`nft ${line.trim()}`);
  for (const line of sh('iptables', ['-w', '-S', 'TSCOMPOSE-FORWARD']).split('\n')) if (ours(line)) out.push(`iptables ${line.trim()}`);
  const jumps = sh('iptables', ['-w', '-S', 'FORWARD'])
    .split('\n')
    .filter((l) => l.includes('-j TSCOMPOSE-FORWARD')).length;
  for (let i = 1; i < jumps; i++) out.push(`iptables extra jump ${i}`);
  // forwarding left on (it is host-wide: counted only as a change from the first snapshot)
  if (sh('cat', ['/proc/sys/net/ipv4/ip_forward']).trim() === '1') out.push('ip_forward 1');
  try {
    const rec = JSON.parse(readFileSync(firewallRecordPath(), 'utf8')) as { entries: Record<string, { owner: string }> };
    for (const [bridge, e] of Object.entries(rec.entries)) if (ours(e.owner + ':')) out.push(`record ${bridge} ${e.owner}`);
  } catch {
    /* no record */
  }
  return out;
}

function processes(roots: string[], projects: string[]): { items: string[]; supervisors: Snapshot['supervisors'] } {
  const items: string[] = [];
  const supervisors: Snapshot['supervisors'] = {};
  for (const pid of ls('/proc').filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid) continue;
    let cmd: string;
    let cg: string;
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
      cg = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    const isSupervisor = /supervisor/.test(cmd) && roots.some((r) => cmd.includes(`--root ${r} `));
    const inProject = projects.some((p) => cg.includes(`/tscompose/${p}/`));
    if (!isSupervisor && !inProject) continue;
    items.push(`${pid} ${cmd.slice(0, 120)}`);
    if (isSupervisor) {
      try {
        const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
        supervisors[pid] = { fds: ls(`/proc/${pid}/fd`).length, rssKiB: Number(rss ?? 0) };
      } catch {
        /* exited meanwhile */
      }
    }
  }
  return { items, supervisors };
}

function files(roots: string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const e of ls(dir)) {
      const p = path.join(dir, e);
      const r = rel ? `${rel}/${e}` : e;
      let st;
      try {
        st = lstatSync(p);
      } catch {
        continue;
      }
      if (rel === '' && e === 'images') {
        out.push(`images/ (${countTree(p)} entries)`, ...imageTemporaries(p));
        continue;
      }
      out.push(st.isSymbolicLink() ? `${r} -> ${readlinkSync(p)}` : r);
      if (st.isDirectory() && !isMountPoint(p)) walk(p, r);
    }
  };
  for (const root of roots) walk(root, '');
  return out;
}

/** What the image store holds only while a writer runs: its tmp folders' entries, atomic-write temp files. */
function imageTemporaries(images: string): string[] {
  const out: string[] = [];
  for (const t of ['blobs/tmp', 'layers/tmp']) for (const e of ls(path.join(images, t))) out.push(`images/${t}/${e}`);
  for (const e of ls(images)) if (e.endsWith('.tmp')) out.push(`images/${e}`);
  return out;
}

function countTree(dir: string): number {
  let n = 0;
  for (const e of ls(dir)) {
    n++;
    const p = path.join(dir, e);
    try {
      if (lstatSync(p).isDirectory()) n += countTree(p);
    } catch {
      /* removed meanwhile */
    }
  }
  return n;
}

function isMountPoint(p: string): boolean {
  try {
    return lstatSync(p).dev !== lstatSync(path.dirname(p)).dev;
  } catch {
    return false;
  }
}

/**
 * The snapshot without the host-wide ip_forward flag: other work on a shared machine flips it,
 * so a comparison of two moments of one test's own objects leaves it out.
 */
export function withoutHostWide(s: Snapshot): Snapshot {
  return { ...s, items: { ...s.items, firewall: s.items.firewall.filter((f) => f !== 'ip_forward 1') } };
}

/** Everything tscompose holds on the host for these roots and projects, right now. */
export function snapshot(scope: LeakScope): Snapshot {
  const roots = scope.roots.map((r) => path.resolve(r));
  const tags = roots.map(rootTag);
  const projects = projectsOf({ ...scope, roots });
  const { mounts, netns } = mountsAndNetns(roots, projects);
  const procs = processes(roots, projects);
  const items: Record<string, string[]> = {
    links: links(tags, ownBridges(roots, projects)),
    netns,
    mounts,
    cgroups: cgroups(projects),
    firewall: firewall(tags),
    processes: procs.items,
    files: files(roots),
  };
  for (const k of Object.keys(items)) items[k].sort();
  return { items, supervisors: procs.supervisors };
}

export interface LeakDiff {
  /** category → items present in `after` but not in `before` */
  added: Record<string, string[]>;
  /** category → items gone since `before` */
  removed: Record<string, string[]>;
  /** category → count after − count before */
  growth: Record<string, number>;
}

/**
 * Items as compared: processes by command (not pid), and the random parts of names (64-hex
 * container and volume ids, the subnets IPAM picked) replaced, so that a container recreated with a new id is the same
 * item and an orphaned volume is one item too many.
 */
function comparable(k: string, s: string): string {
  const t = k === 'processes' ? s.replace(/^\d+ /, '') : s;
  return t.replace(/[0-9a-f]{64}/g, '<id>').replace(/\b\d{1,3}(\.\d{1,3}){3}(\/\d+)?\b/g, '<ipv4>');
}

/** Items of `a` beyond those of `b`, as multisets. */
function minus(a: string[], b: string[]): string[] {
  const left = new Map<string, number>();
  for (const x of b) left.set(x, (left.get(x) ?? 0) + 1);
  return a.filter((x) => {
    const n = left.get(x) ?? 0;
    if (n > 0) left.set(x, n - 1);
    return n === 0;
  });
}

/** What changed between two snapshots. */
export function diff(before: Snapshot, after: Snapshot): LeakDiff {
  const res: LeakDiff = { added: {}, removed: {}, growth: {} };
  for (const k of CATEGORIES) {
    const b = before.items[k].map((s) => comparable(k, s));
    const a = after.items[k].map((s) => comparable(k, s));
    const added = minus(a, b);
    const removed = minus(b, a);
    if (added.length) res.added[k] = added;
    if (removed.length) res.removed[k] = removed;
    res.growth[k] = a.length - b.length;
  }
  return res;
}

/** Counts per category, for a one-line report. */
export function counts(s: Snapshot): Record<string, number> {
  return Object.fromEntries(CATEGORIES.map((k) => [k, s.items[k].length]));
}

/**
 * A readable list of what `after` holds beyond `before` ('' when nothing); with `exact`, also
 * what it lacks (to compare a converged project with a reference one); `only` limits it to
 * those categories.
 */
export function describeLeaks(before: Snapshot, after: Snapshot, opts: { exact?: boolean; only?: string[] } = {}): string {
  const d = diff(before, after);
  if (opts.only) for (const k of Object.keys(d.added)) if (!opts.only.includes(k)) delete d.added[k];
  if (opts.only) for (const k of Object.keys(d.removed)) if (!opts.only.includes(k)) delete d.removed[k];
  const lines = Object.entries(d.added).map(([k, v]) => `${k} +: ${v.join('; ')}`);
  if (opts.exact) lines.push(...Object.entries(d.removed).map(([k, v]) => `${k} -: ${v.join('; ')}`));
  return lines.join('\n');
}
