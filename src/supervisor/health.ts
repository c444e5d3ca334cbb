/**
 * Healthchecks with Docker's semantics: a probe every `interval` (or `startInterval` during the
 * start period), each bounded by `timeout`; a success makes the container healthy and resets
 * the failing streak; `retries` consecutive failures make it unhealthy; failures during the
 * start period do not count while the container is still "starting". The last 5 results are
 * kept with their output.
 */
import { TscError } from '../common/errors.js';
import type { HealthResult, HealthState, HealthcheckConfig } from './types.js';
import { nowRfc3339Nano } from './logs.js';

const MAX_OUTPUT = 4096;
const KEEP_RESULTS = 5;

/** argv of the probe, or null when the check is disabled (["NONE"] or empty). */
export function probeArgs(test: string[]): string[] | null {
  if (test.length === 0 || test[0] === 'NONE') return null;
  if (test[0] === 'CMD') {
    if (test.length < 2) throw new TscError('SPEC_INVALID', 'healthcheck test ["CMD"] has no command');
    return test.slice(1);
  }
  if (test[0] === 'CMD-SHELL') {
    if (test.length !== 2) throw new TscError('SPEC_INVALID', 'healthcheck test ["CMD-SHELL", ...] takes exactly one command line');
    return ['/bin/sh', '-c', test[1]];
  }
  throw new TscError('SPEC_INVALID', `healthcheck test must start with "CMD", "CMD-SHELL" or "NONE", got "${test[0]}"`);
}

export function initialHealth(): HealthState {
  return { status: 'starting', failingStreak: 0, log: [] };
}

/** Applies one probe result to the health state (pure; returns the new state). */
export function applyProbeResult(prev: HealthState, result: HealthResult, cfg: HealthcheckConfig, inStartPeriod: boolean): HealthState {
  const log = [...prev.log, result].slice(-KEEP_RESULTS);
  if (result.exitCode === 0) return { status: 'healthy', failingStreak: 0, log };
  if (inStartPeriod && prev.status === 'starting') return { ...prev, log };
  const failingStreak = prev.failingStreak + 1;
  const status = failingStreak >= Math.max(1, cfg.retries) ? 'unhealthy' : prev.status;
  return { status, failingStreak, log };
}

export interface ProbeRunner {
  /** Runs argv in the container; resolves with exit code and combined output (never rejects). */
  (args: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }>;
}

/** Runs the probes of one container run on a timer until stopped. */
export class HealthMonitor {
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private readonly args: string[];

  constructor(
    private readonly cfg: HealthcheckConfig,
    /** epoch ms when this run started (the start period counts from it) */
    private readonly startedAtMs: number,
    private readonly run: ProbeRunner,
    private readonly getState: () => HealthState,
    private readonly onResult: (state: HealthState) => void,
  ) {
    const args = probeArgs(cfg.test);
    if (!args) throw new TscError('INTERNAL', 'HealthMonitor created for a disabled healthcheck');
    this.args = args;
  }

  start(): void {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private inStartPeriod(now = Date.now()): boolean {
    return now < this.startedAtMs + this.cfg.startPeriod;
  }

  private schedule(): void {
    if (this.stopped) return;
    const delay = this.inStartPeriod() && this.getState().status === 'starting' && this.cfg.startInterval ? this.cfg.startInterval : this.cfg.interval;
    this.timer = setTimeout(() => void this.probe(), delay);
    this.timer.unref();
  }

  private async probe(): Promise<void> {
    if (this.stopped) return;
    const start = nowRfc3339Nano();
    const startMs = Date.now();
    const { exitCode, output } = await this.run(this.args, this.cfg.timeout);
    if (this.stopped) return;
    const result: HealthResult = { start, end: nowRfc3339Nano(), exitCode, output: output.slice(0, MAX_OUTPUT) };
    this.onResult(applyProbeResult(this.getState(), result, this.cfg, this.inStartPeriod(startMs)));
    this.schedule();
  }
}
