/**
 * Driving tscompose's fault injection (src/sys/fault.ts) from tests: run a command with
 * TSCOMPOSE_FAULT set and a step file of its own, read back which steps it made, and pick the
 * K values a sweep visits.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { CliProject, RunResult } from './cli.js';

export interface FaultRun extends RunResult {
  /** the steps made (lines "step|write <pid> <what>"), in order, by every process of the command */
  steps: string[];
  /** the step file, which a supervisor started by the command may keep appending to */
  file: string;
}

/** Runs `args` with TSCOMPOSE_FAULT=`fault` (kill-after:K, enospc-at:K or trace). */
export async function runWithFault(p: CliProject, args: string[], fault: string): Promise<FaultRun> {
  // next to the project folder: it must outlive any supervisor the command starts
  const file = path.join(mkdtempSync(path.join(path.dirname(p.dir), 'fault-')), 'steps');
  const r = await p.run(args, { env: { TSCOMPOSE_FAULT: fault, TSCOMPOSE_FAULT_FILE: file } });
  return { ...r, file, steps: readSteps(file) };
}

export function readSteps(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

/** The `kind` lines of a step list ("step" for kill-after, "write" for enospc-at). */
export function stepsOf(steps: string[], kind: 'step' | 'write'): string[] {
  return steps.filter((l) => l.startsWith(`${kind} `)).map((l) => l.split(' ').slice(2).join(' '));
}

/** 1..n every `stride`-th value, always with 1 and n. */
export function sweep(n: number, stride: number): number[] {
  const ks = new Set<number>();
  for (let k = 1; k <= n; k += Math.max(1, stride)) ks.add(k);
  if (n >= 1) ks.add(n);
  return [...ks].sort((a, b) => a - b);
}

/** A clear error as the CLI prints it: no stack trace, no "internal error". */
export function isCleanError(r: RunResult): boolean {
  return r.code === 1 && !/internal error|\n\s+at .+:\d+:\d+/.test(r.stderr);
}

/**
 * One K of a sweep. By default a failure fails the test at once; with FAULT_KEEP_GOING=1 (the
 * full sweep, scripts/fault-sweep.sh) it is reported through `report`, `reset` brings the
 * project back to a clean start, and the failures are returned by `failures()` for the end.
 */
export class SweepRun {
  private readonly failed: string[] = [];
  constructor(
    private readonly report: (line: string) => void,
    private readonly reset: () => Promise<void>,
  ) {}

  async attempt(what: string, fn: () => Promise<void>): Promise<void> {
    if (process.env.FAULT_KEEP_GOING !== '1') return fn();
    try {
      await fn();
    } catch (e) {
      // an assertion's message is cut short: its actual value says what was left
      const actual = (e as { actual?: unknown }).actual;
      const first = [String((e as Error).message ?? e).split('\n')[0], typeof actual === 'string' ? actual : ''].join(' | ').replace(/\n/g, ' | ');
      this.failed.push(`${what}: ${first}`);
      this.report(`fault: FAILED ${what}: ${first}`);
      await this.reset().catch((err: unknown) => this.report(`fault: reset after ${what} failed: ${String(err)}`));
    }
  }

  failures(): string[] {
    return this.failed;
  }
}
