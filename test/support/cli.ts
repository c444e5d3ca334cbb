/**
 * Runs the built CLI (bin/tscompose.js) as a user would, in a project folder of its own with a
 * state root of its own, and checks afterwards that nothing of the project is left in the kernel.
 */
import { execFile, execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../src/common/paths.js';

export const CLI = path.join(PACKAGE_ROOT, 'bin', 'tscompose.js');

let archive: string | undefined;
/** The offline busybox image archive, built once per test process. */
export function busyboxArchive(): string {
  if (archive && existsSync(archive)) return archive;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsc-img-'));
  archive = path.join(dir, 'busybox.tar');
  execFileSync(process.execPath, [path.join(PACKAGE_ROOT, 'scripts', 'build-busybox-image.mjs'), archive], { stdio: 'pipe' });
  return archive;
}

/** Removes the archive folder (each test file's afterAll, see test/integration/setup-file.ts). */
export function removeBusyboxArchive(): void {
  if (archive) rmSync(path.dirname(archive), { recursive: true, force: true });
  archive = undefined;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Projects made by the running test: cleaned up after each test (test/integration/setup-file.ts). */
const live = new Set<CliProject>();

/** Brings down every project the test made and returns what any of them left in the kernel. */
export async function cleanupProjects(): Promise<string[]> {
  const left: string[] = [];
  for (const p of [...live]) {
    await p.cleanup();
    left.push(...leftovers(p.name));
  }
  return left;
}

export class CliProject {
  private cleaned = false;
  readonly dir: string;
  readonly root: string;
  readonly name: string;

  constructor(compose: string, files: Record<string, string> = {}, root?: string) {
    this.name = `tsct${Math.random().toString(36).slice(2, 8)}`;
    const base = mkdtempSync(path.join(os.tmpdir(), 'tsc-cli-'));
    this.dir = path.join(base, this.name);
    this.root = root ?? path.join(base, 'root');
    mkdirSync(this.dir, { recursive: true });
    this.write('compose.yaml', compose);
    for (const [f, text] of Object.entries(files)) this.write(f, text);
    live.add(this);
  }

  /** A project folder with the busybox image loaded into its state root. */
  static async create(compose: string, files: Record<string, string> = {}, opts: { root?: string } = {}): Promise<CliProject> {
    const p = new CliProject(compose, files, opts.root);
    await p.ok(['image', 'load', '-i', busyboxArchive()]);
    return p;
  }

  write(file: string, text: string): void {
    const p = path.join(this.dir, file);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, text);
  }

  /** The runner's environment without its Compose variables; a test's own (`extra`) are kept. */
  env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, TSCOMPOSE_ROOT: this.root };
    delete env.COMPOSE_FILE;
    delete env.COMPOSE_PROJECT_NAME;
    delete env.COMPOSE_PROFILES;
    return { ...env, ...extra };
  }

  /** Runs the CLI asynchronously (a synchronous spawn would stall the test runner's own messages). */
  run(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number; cwd?: string } = {}): Promise<RunResult> {
    return new Promise((resolve) => {
      // the launcher itself, as a user runs it (its #! line starts node with `--`)
      execFile(
        CLI,
        args,
        { cwd: opts.cwd ?? this.dir, env: this.env(opts.env), encoding: 'utf8', timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 },
        (err, stdout, stderr) => {
          const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 128) : 0;
          resolve({ code, stdout: stdout ?? '', stderr: stderr ?? '' });
        },
      );
    });
  }

  /** Like run, but fails the test with the CLI's output when the exit code is not 0. */
  async ok(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number; cwd?: string } = {}): Promise<RunResult> {
    const r = await this.run(args, opts);
    if (r.code !== 0) throw new Error(`tscompose ${args.join(' ')} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r;
  }

  spawn(args: string[]): ChildProcess {
    return spawn(CLI, args, { cwd: this.dir, env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** `ps -a --format json`: one JSON object per line, as Docker Compose >= 2.21 prints it. */
  async ps(): Promise<Array<Record<string, unknown>>> {
    const out = (await this.ok(['ps', '-a', '--format', 'json'])).stdout;
    return out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** The IPv4 addresses the project's record holds for a container, by network key. */
  addresses(container: string): Record<string, string> {
    const state = JSON.parse(readFileSync(path.join(this.root, 'projects', this.name, 'state.json'), 'utf8')) as {
      containers: Record<string, { name: string; addresses?: Record<string, { ipv4?: string }> }>;
    };
    const rec = Object.values(state.containers).find((c) => c.name === container);
    return Object.fromEntries(Object.entries(rec?.addresses ?? {}).map(([k, a]) => [k, a.ipv4 ?? '']));
  }

  /** Brings everything down (volumes too) and removes the folders. */
  async cleanup(): Promise<void> {
    if (this.cleaned) return;
    this.cleaned = true;
    live.delete(this);
    await this.run(['down', '-v', '-t', '0', '--remove-orphans'], { timeoutMs: 60_000 });
    const sup = path.join(this.root, 'projects', this.name, 'supervisor.pid');
    if (existsSync(sup)) {
      try {
        process.kill(Number(readFileSync(sup, 'utf8').trim()), 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    rmSync(path.dirname(this.dir), { recursive: true, force: true });
  }
}

/** Kernel objects that still carry this project's name or alias. */
export function leftovers(project: string): string[] {
  const out: string[] = [];
  const links = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout ?? '';
  for (const line of links.split('\n'))
    if (line.includes(`:${project}:`) || line.includes(`tscompose:${project}`)) out.push(`link ${line.split(':')[1]?.trim()}`);
  const mounts = readFileSync('/proc/self/mounts', 'utf8');
  for (const line of mounts.split('\n')) if (line.includes(project)) out.push(`mount ${line.split(' ')[1]}`);
  for (const ctrl of readdirSync('/sys/fs/cgroup')) {
    const dir = path.join('/sys/fs/cgroup', ctrl, 'tscompose', project);
    if (existsSync(dir)) out.push(`cgroup ${dir}`);
  }
  const procs = spawnSync('pgrep', ['-f', project], { encoding: 'utf8' }).stdout ?? '';
  for (const pid of procs.split('\n').filter(Boolean)) {
    if (Number(pid) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (!cmd.includes('pgrep')) out.push(`process ${pid} ${cmd}`);
    } catch {
      /* gone */
    }
  }
  return out;
}

export async function waitFor<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
