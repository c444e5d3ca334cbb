/**
 * Which cgroup hierarchy holds each controller, read from /proc/self/mountinfo at run time.
 * A machine can be pure v2 (one cgroup2 mount with every controller), pure v1 (one mount per
 * controller group) or hybrid (v1 controllers plus a cgroup2 mount that holds whatever no v1
 * hierarchy claimed). A controller is v1 when a v1 mount lists it, else v2 when the cgroup2
 * root lists it in cgroup.controllers.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Controllers the engine places containers in and sets limits through. */
export const ENGINE_CONTROLLERS = ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'freezer', 'devices'] as const;
export type Controller = (typeof ENGINE_CONTROLLERS)[number];

export interface CgroupLayout {
  /** v1 controller → mount point of its hierarchy (co-mounted controllers share one) */
  v1: Partial<Record<string, string>>;
  /** mount point of the cgroup2 hierarchy, when mounted */
  v2?: string;
  /** controllers available at the cgroup2 root */
  v2Controllers: string[];
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parses mountinfo text into a layout; `readControllers` reads a cgroup2 root's controller list. */
export function parseLayout(mountinfo: string, readControllers: (mnt: string) => string[]): CgroupLayout {
  const layout: CgroupLayout = { v1: {}, v2Controllers: [] };
  for (const line of mountinfo.split('\n')) {
    if (!line) continue;
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' ');
    const post = line.slice(sep + 3).split(' ');
    const mnt = unescapeMount(pre[4]);
    const fstype = post[0];
    const superOpts = post[2] ?? '';
    if (fstype === 'cgroup') {
      for (const opt of superOpts.split(',')) {
        if ((ENGINE_CONTROLLERS as readonly string[]).includes(opt) && !layout.v1[opt]) layout.v1[opt] = mnt;
      }
    } else if (fstype === 'cgroup2' && !layout.v2) {
      layout.v2 = mnt;
    }
  }
  if (layout.v2) layout.v2Controllers = readControllers(layout.v2).filter((c) => !layout.v1[c]);
  return layout;
}

let cached: CgroupLayout | undefined;

/** The running machine's layout (cached: mounts of cgroup hierarchies do not change under us). */
export function detectLayout(): CgroupLayout {
  if (!cached) {
    cached = parseLayout(readFileSync('/proc/self/mountinfo', 'utf8'), (mnt) => {
      try {
        return readFileSync(path.join(mnt, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean);
      } catch {
        return [];
      }
    });
  }
  return cached;
}

/** "v1" when a controller lives in a v1 hierarchy, "v2" in the unified one, undefined if absent. */
export function controllerVersion(layout: CgroupLayout, c: string): 'v1' | 'v2' | undefined {
  if (layout.v1[c]) return 'v1';
  if (layout.v2 && layout.v2Controllers.includes(c)) return 'v2';
  return undefined;
}
