/**
 * A container's cgroup: create + apply limits (limits.ts), add a pid, signal every member, OOM and usage
 * readings, destroy. Works over cgroup v1 hierarchies, the v2 unified tree, or a hybrid of the
 * two, decided per controller by the layout (see layout.ts). All paths are relative to each
 * hierarchy's mount point, so tests can pass a layout whose mount points are temp dirs.
 */
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Resources } from '../spec.js';
import { cgErr, readOr, writeFile } from './files.js';
import { killCgroups } from './kill.js';
import { ENGINE_CONTROLLERS, controllerVersion, detectLayout, type CgroupLayout } from './layout.js';
import { writeLimits, type CgroupOptions } from './limits.js';
import { faultPoint } from '../../sys/fault.js';

export interface CgroupStats {
  memoryBytes?: number;
  memoryLimitBytes?: number;
  cpuUsageNs?: number;
  pids?: number;
}

const CGROUP_PATH_RE = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

export class ContainerCgroup {
  readonly relPath: string;
  readonly layout: CgroupLayout;
  private readonly useV2: boolean;

  constructor(relPath: string, layout: CgroupLayout = detectLayout()) {
    const rel = relPath.replace(/^\/+|\/+$/g, '');
    if (!CGROUP_PATH_RE.test(rel) || rel.split('/').some((p) => p === '.' || p === '..')) {
      throw cgErr(`invalid cgroup path "${relPath}": expected segments of [A-Za-z0-9_.-] separated by "/"`);
    }
    this.relPath = rel;
    this.layout = layout;
    const anyV1 = Object.keys(layout.v1).length > 0;
    this.useV2 = !!layout.v2 && (!anyV1 || ENGINE_CONTROLLERS.some((c) => controllerVersion(layout, c) === 'v2'));
    if (!anyV1 && !this.useV2) {
      throw cgErr(
        'no cgroup hierarchy is mounted (neither v1 controllers nor cgroup2 found in /proc/self/mountinfo)',
        undefined,
        'mount cgroup2 on /sys/fs/cgroup (or the v1 controller hierarchies) first',
      );
    }
  }

  /** Distinct v1 hierarchy mount points holding the controllers we use. */
  private v1Mounts(): string[] {
    return [...new Set(ENGINE_CONTROLLERS.map((c) => this.layout.v1[c]).filter((m): m is string => !!m))];
  }

  v1Dir(controller: string): string | undefined {
    const m = this.layout.v1[controller];
    return m ? path.join(m, this.relPath) : undefined;
  }

  v2Dir(): string | undefined {
    return this.useV2 && this.layout.v2 ? path.join(this.layout.v2, this.relPath) : undefined;
  }

  /** Every directory of this cgroup (one per v1 hierarchy, plus the v2 one when used). */
  dirs(): string[] {
    const out = this.v1Mounts().map((m) => path.join(m, this.relPath));
    const v2 = this.v2Dir();
    if (v2) out.push(v2);
    return out;
  }

  /**
   * How the container sees its cgroup under /sys/fs/cgroup: one entry per hierarchy, named
   * like the hierarchy's mount point ("memory", "cpu,cpuacct", "unified"), or a single entry
   * with name "" on a pure v2 machine (the directory is /sys/fs/cgroup itself).
   */
  views(): Array<{ name: string; dir: string }> {
    const v1 = this.v1Mounts();
    const v2 = this.v2Dir();
    if (!v1.length && v2) return [{ name: '', dir: v2 }];
    const out = v1.map((m) => ({ name: path.basename(m), dir: path.join(m, this.relPath) }));
    if (v2 && this.layout.v2) out.push({ name: path.basename(this.layout.v2), dir: v2 });
    return out;
  }

  /** The directory whose cgroup.procs lists the members (pids, freezer, or any). */
  private procsDir(): string {
    const v2 = this.v2Dir();
    if (v2) return v2;
    const d = this.v1Dir('pids') ?? this.v1Dir('freezer') ?? this.v1Dir('memory') ?? this.dirs()[0];
    return d;
  }

  /** Creates the cgroup in every hierarchy (ancestors included) and applies the limits. */
  create(res: Resources, opts: CgroupOptions = {}): void {
    const segs = this.relPath.split('/');
    // Directories first (mkdir recreates an ancestor pruned meanwhile by another container's
    // removal), then per-level settings top-down: a pruned-and-recreated level gets them too.
    // Once our leaf exists, no ancestor can be pruned (rmdir of a non-empty cgroup fails).
    for (const mnt of this.v1Mounts()) {
      this.mkdir(path.join(mnt, this.relPath));
      // A new v1 cpuset cgroup starts with empty cpus/mems: no task can join until filled.
      if (this.layout.v1.cpuset === mnt) {
        let cur = mnt;
        for (const s of segs) {
          const parent = cur;
          cur = path.join(cur, s);
          for (const f of ['cpuset.cpus', 'cpuset.mems']) {
            if (readOr(path.join(cur, f)).trim() === '') {
              const pv = readOr(path.join(parent, f)).trim();
              if (pv) writeFile(this, cur, f, pv);
            }
          }
        }
      }
    }
    const v2 = this.v2Dir();
    if (v2 && this.layout.v2) {
      this.mkdir(v2);
      const want = ['cpu', 'cpuset', 'memory', 'pids'].filter((c) => this.layout.v2Controllers.includes(c));
      let cur = this.layout.v2;
      for (const s of segs) {
        // Enable the controllers for the children of `cur`, only those not enabled yet.
        const enabled = readOr(path.join(cur, 'cgroup.subtree_control')).trim().split(/\s+/);
        const missing = want.filter((c) => !enabled.includes(c));
        if (missing.length) {
          try {
            writeFile(this, cur, 'cgroup.subtree_control', missing.map((c) => `+${c}`).join(' '));
          } catch {
            // One at a time: a controller the host will not delegate only matters if a limit
            // needs it, and then writing that limit fails with its own clear error.
            for (const c of missing) {
              try {
                writeFile(this, cur, 'cgroup.subtree_control', `+${c}`);
              } catch {
                // left disabled
              }
            }
          }
        }
        cur = path.join(cur, s);
      }
    }
    this.apply(res, opts);
    faultPoint(`cgroup ${this.relPath}`);
  }

  private mkdir(dir: string): void {
    for (let attempt = 0; ; attempt++) {
      try {
        mkdirSync(dir);
        return;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') return;
        // Another container's removal may have just pruned an empty ancestor: create it again.
        if (code === 'ENOENT' && attempt < 5) {
          // the parent is missing: never above a hierarchy's mount point, which always exists
          this.mkdir(path.dirname(dir));
          continue;
        }
        throw cgErr(`cannot create cgroup directory ${dir}: ${code}`, e);
      }
    }
  }

  /** Writes the resource limits (used by create; callable again to update). */
  apply(res: Resources, opts: CgroupOptions = {}): void {
    writeLimits(this, res, opts);
  }

  v2Has(c: string): boolean {
    return this.useV2 && this.layout.v2Controllers.includes(c);
  }

  /** Moves a process (host pid) into the cgroup in every hierarchy. */
  addPid(pid: number): void {
    for (const d of this.dirs()) writeFile(this, d, 'cgroup.procs', pid);
  }

  /** Host pids of the member processes. */
  pids(): number[] {
    return readOr(path.join(this.procsDir(), 'cgroup.procs')).split('\n').filter(Boolean).map(Number);
  }

  exists(): boolean {
    return this.dirs().some((d) => existsSync(d));
  }

  isEmpty(): boolean {
    return this.pids().length === 0;
  }

  /** Sends `signal` to every member; returns how many were signalled. */
  signalAll(signal: NodeJS.Signals | number): number {
    let n = 0;
    for (const pid of this.pids()) {
      try {
        process.kill(pid, signal);
        n++;
      } catch {
        // already gone
      }
    }
    return n;
  }

  /**
   * SIGKILLs every member and waits until the cgroup is empty. Freezes first (v1 freezer,
   * v2 cgroup.kill or cgroup.freeze) so a fork between listing and killing cannot escape.
   * An empty cgroup is left alone (see killCgroups).
   */
  async killAll(timeoutMs = 10_000): Promise<void> {
    await killCgroups([this], timeoutMs);
  }

  /**
   * First step of killCgroups: cgroup.kill (v2), else freezes (v1) and returns the freezer
   * directory to thaw once every member has been sent SIGKILL.
   */
  startKill(): { frozen: string | null } {
    const v2 = this.v2Dir();
    if (v2 && existsSync(path.join(v2, 'cgroup.kill'))) {
      writeFile(this, v2, 'cgroup.kill', 1);
      return { frozen: null };
    }
    const fz = this.v1Dir('freezer');
    if (!fz || !existsSync(path.join(fz, 'freezer.state'))) return { frozen: null };
    writeFile(this, fz, 'freezer.state', 'FROZEN');
    return { frozen: fz };
  }

  /**
   * Freezes (or thaws) every process of the cgroup: v1 freezer.state, v2 cgroup.freeze.
   * Waits until the kernel reports the new state.
   */
  async setFrozen(frozen: boolean, timeoutMs = 5000): Promise<void> {
    const v2 = this.v2Dir();
    let file: string;
    let want: string;
    let done: () => boolean;
    if (v2 && existsSync(path.join(v2, 'cgroup.freeze'))) {
      file = path.join(v2, 'cgroup.freeze');
      want = frozen ? '1' : '0';
      done = () => new RegExp(`^frozen ${frozen ? 1 : 0}$`, 'm').test(readOr(path.join(v2, 'cgroup.events')));
    } else if (this.layout.v1.freezer) {
      file = path.join(this.v1Dir('freezer')!, 'freezer.state');
      want = frozen ? 'FROZEN' : 'THAWED';
      done = () => readOr(file).trim() === want;
    } else {
      throw cgErr(`cgroup ${this.relPath}: no freezer available (neither the v1 freezer controller nor cgroup v2 cgroup.freeze)`);
    }
    writeFile(this, path.dirname(file), path.basename(file), want);
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw cgErr(`cgroup ${this.relPath} did not become ${frozen ? 'frozen' : 'thawed'} within ${timeoutMs} ms`);
      await sleep(5);
    }
  }

  isFrozen(): boolean {
    const v2 = this.v2Dir();
    if (v2 && existsSync(path.join(v2, 'cgroup.freeze'))) return /^frozen 1$/m.test(readOr(path.join(v2, 'cgroup.events')));
    if (this.layout.v1.freezer) return readOr(path.join(this.v1Dir('freezer')!, 'freezer.state')).trim() === 'FROZEN';
    return false;
  }

  /** True when the kernel's OOM killer killed a process of this cgroup. */
  oomKilled(): boolean {
    if (this.layout.v1.memory) {
      const d = this.v1Dir('memory')!;
      const ctl = readOr(path.join(d, 'memory.oom_control'));
      const m = /^oom_kill (\d+)/m.exec(ctl);
      if (m) return Number(m[1]) > 0;
      return Number(readOr(path.join(d, 'memory.failcnt'), '0').trim()) > 0 && /under_oom 1/.test(ctl);
    }
    if (this.v2Has('memory')) {
      const m = /^oom_kill (\d+)/m.exec(readOr(path.join(this.v2Dir()!, 'memory.events')));
      return !!m && Number(m[1]) > 0;
    }
    return false;
  }

  stats(): CgroupStats {
    const num = (f: string | undefined): number | undefined => {
      if (!f) return undefined;
      const t = readOr(f).trim();
      if (t === '' || t === 'max') return undefined;
      const n = Number(t);
      return Number.isFinite(n) ? n : undefined;
    };
    const s: CgroupStats = {};
    if (this.layout.v1.memory) {
      s.memoryBytes = num(path.join(this.v1Dir('memory')!, 'memory.usage_in_bytes'));
      s.memoryLimitBytes = num(path.join(this.v1Dir('memory')!, 'memory.limit_in_bytes'));
    } else if (this.v2Has('memory')) {
      s.memoryBytes = num(path.join(this.v2Dir()!, 'memory.current'));
      s.memoryLimitBytes = num(path.join(this.v2Dir()!, 'memory.max'));
    }
    if (this.layout.v1.cpuacct) {
      s.cpuUsageNs = num(path.join(this.v1Dir('cpuacct')!, 'cpuacct.usage'));
    } else if (this.v2Dir()) {
      const m = /^usage_usec (\d+)/m.exec(readOr(path.join(this.v2Dir()!, 'cpu.stat')));
      if (m) s.cpuUsageNs = Number(m[1]) * 1000;
    }
    const pidsDir = this.layout.v1.pids ? this.v1Dir('pids') : this.v2Has('pids') ? this.v2Dir() : undefined;
    if (pidsDir) s.pids = num(path.join(pidsDir, 'pids.current'));
    return s;
  }

  /**
   * Removes the cgroup from every hierarchy, then each ancestor inside relPath that is left
   * empty (those are tscompose's own: "tscompose/<project>"). Never touches anything above.
   */
  destroy(): void {
    const segs = this.relPath.split('/');
    const roots = this.v1Mounts();
    if (this.useV2 && this.layout.v2) roots.push(this.layout.v2);
    for (const root of roots) {
      const leaf = path.join(root, this.relPath);
      if (existsSync(leaf)) {
        try {
          rmdirSync(leaf);
        } catch (e) {
          throw cgErr(`cannot remove cgroup ${leaf}: ${(e as NodeJS.ErrnoException).code}`, e, 'processes are still inside it: stop the container first');
        }
      }
      for (let i = segs.length - 1; i >= 1; i--) {
        try {
          rmdirSync(path.join(root, ...segs.slice(0, i)));
        } catch {
          break; // not empty (another container of the project) or already gone
        }
      }
    }
    faultPoint(`remove cgroup ${this.relPath}`);
  }
}
