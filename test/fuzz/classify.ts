/**
 * Runs fuzz cases and sorts each outcome into exactly one class. Only the first two are
 * acceptable: a clean one-paragraph error, or the input accepted.
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export type Outcome = 'clean error' | 'accepted' | 'stack trace' | 'internal error' | 'timeout' | 'signal' | 'memory over 500 MB';
export const GOOD: readonly Outcome[] = ['clean error', 'accepted'];
export const MEMORY_LIMIT = 500 * 1024 * 1024;

export interface Result {
  outcome: Outcome;
  /** the error's first line, or what went wrong */
  detail: string;
}

/** Writes a case's files into `dir` (FIFOs and symbolic links too). */
export function materialize(files: Record<string, string | { fifo: true } | { symlink: string }>, dir: string): void {
  for (const [rel, f] of Object.entries(files)) {
    const p = path.join(dir, rel);
    mkdirSync(path.dirname(p), { recursive: true });
    if (typeof f === 'string') writeFileSync(p, f);
    else if ('fifo' in f) execFileSync('mkfifo', [p]);
    else symlinkSync(f.symlink, p);
  }
}

/** The class of an error thrown by an in-process call. */
export function classifyError(e: unknown): Result {
  const err = e as { name?: string; code?: string; message?: string };
  const first = String(err?.message ?? e)
    .split('\n')[0]!
    .slice(0, 300);
  if (err?.name === 'TscError' && err.code !== 'INTERNAL') {
    if (/\n\s+at .*:\d+:\d+/.test(String(err.message))) return { outcome: 'stack trace', detail: first };
    return { outcome: 'clean error', detail: `${err.code}: ${first}` };
  }
  return { outcome: 'internal error', detail: `${err?.name ?? typeof e}: ${first}` };
}

/** Peak resident memory of a process so far, from /proc (0 once it is gone). */
function peakRss(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Runs `file args` and classifies how it ended: killed at `timeoutMs` or past MEMORY_LIMIT. */
export function runProcess(
  file: string,
  args: string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<Result & { code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let killed: Outcome | undefined;
    child.stderr!.on('data', (d: Buffer) => {
      if (stderr.length < 64 * 1024) stderr += d.toString();
    });
    const poll = setInterval(() => {
      if (child.pid !== undefined && peakRss(child.pid) > MEMORY_LIMIT) {
        killed = 'memory over 500 MB';
        child.kill('SIGKILL');
      }
    }, 25);
    const timer = setTimeout(() => {
      killed = 'timeout';
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.on('close', (code, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      const first = stderr.split('\n')[0]!.slice(0, 300);
      const base = { code, stderr };
      if (killed) return resolve({ ...base, outcome: killed, detail: first });
      if (signal) return resolve({ ...base, outcome: 'signal', detail: `${signal}: ${first}` });
      if (/internal error/.test(stderr)) return resolve({ ...base, outcome: 'internal error', detail: first });
      if (/\n\s+at .*:\d+:\d+/.test(stderr)) return resolve({ ...base, outcome: 'stack trace', detail: first });
      if (code === 0) return resolve({ ...base, outcome: 'accepted', detail: '' });
      if ((code === 1 || code === 2) && /^error: /.test(stderr)) return resolve({ ...base, outcome: 'clean error', detail: first });
      resolve({ ...base, outcome: 'internal error', detail: `exit ${code}: ${first}` });
    });
  });
}

/** Counts of each class, in a fixed order, for the summary line. */
export function tally(results: Outcome[]): Record<Outcome, number> {
  const out = { 'clean error': 0, accepted: 0, 'stack trace': 0, 'internal error': 0, timeout: 0, signal: 0, 'memory over 500 MB': 0 } as Record<
    Outcome,
    number
  >;
  for (const r of results) out[r]++;
  return out;
}
