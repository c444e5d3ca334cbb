/**
 * Records the supervisor keeps per container and the options a run request carries. Shared by
 * the supervisor process and its client (through protocol.ts), so they hold only plain data.
 */
import type { ContainerSpec } from '../engine/spec.js';

export type RestartPolicy =
  | { name: 'no' }
  | { name: 'always' }
  | { name: 'unless-stopped' }
  /** maxRetries undefined = unlimited */
  | { name: 'on-failure'; maxRetries?: number };

/** Healthcheck as Docker runs it; durations in milliseconds. */
export interface HealthcheckConfig {
  /** ["CMD", arg...] or ["CMD-SHELL", "command line"]; ["NONE"] disables the check */
  test: string[];
  interval: number;
  timeout: number;
  retries: number;
  startPeriod: number;
  /** interval used during the start period (Docker's start_interval); defaults to `interval` */
  startInterval?: number;
}

export const HEALTH_DEFAULTS = { interval: 30_000, timeout: 30_000, retries: 3, startPeriod: 0 } as const;

export interface LogOptions {
  /** "json-file" keeps the output; "none" reads and drops it (Compose `logging.driver`) */
  driver: 'json-file' | 'none';
  /** bytes per log file before it is rotated; 0 = never rotate */
  maxSize: number;
  /** number of files kept, the live one included (Docker's max-file) */
  maxFile: number;
}

export const LOG_DEFAULTS: LogOptions = { driver: 'json-file', maxSize: 10 * 1024 * 1024, maxFile: 3 };

/** Everything the supervisor needs to (re)start a container; saved as run.json in its bundle. */
export interface RunConfig {
  spec: ContainerSpec;
  restart: RestartPolicy;
  healthcheck?: HealthcheckConfig;
  log?: Partial<LogOptions>;
  /** signal sent by stop when none is given (the service's stop_signal); default SIGTERM */
  stopSignal?: string;
  /** grace before SIGKILL when none is given (stop_grace_period); default 10 s */
  stopGraceMs?: number;
  /**
   * Opaque data for the network services that live in the supervisor (DNS, port proxies):
   * handed unchanged to the registered hooks on container start and stop.
   */
  network?: unknown;
  /** free-form labels copied into the status record (service name, replica number, ...) */
  labels?: Record<string, string>;
}

export type ContainerState = 'created' | 'running' | 'paused' | 'restarting' | 'exited' | 'dead';
export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

export interface HealthResult {
  start: string;
  end: string;
  /** exit code of the check; -1 when it timed out or could not run */
  exitCode: number;
  output: string;
}

export interface HealthState {
  status: HealthStatus;
  failingStreak: number;
  /** the last 5 results, oldest first */
  log: HealthResult[];
}

/** One container as the supervisor sees it; saved as status.json in its bundle. */
export interface ContainerStatus {
  id: string;
  state: ContainerState;
  pid: number | null;
  /** start time of `pid` in clock ticks after boot (/proc/PID/stat field 22): identifies the process */
  startTime: number | null;
  /** RFC 3339 times */
  startedAt: string | null;
  finishedAt: string | null;
  /** exit code, 128 + n for a signal; null when unknown (see exitReason) */
  exitCode: number | null;
  /** why the container is not running, or why its exit code is unknown, in words */
  exitReason?: string;
  oomKilled: boolean;
  restartCount: number;
  /** a stop or kill asked by the user: no restart policy applies to this exit */
  stoppedByUser: boolean;
  health?: HealthState;
  /** the last start error (state dead) */
  error?: { code: string; message: string; hint?: string };
  labels?: Record<string, string>;
}

/** One log line as stored (Docker's json-file format). */
export interface LogEntry {
  log: string;
  stream: 'stdout' | 'stderr';
  /** RFC 3339 with nanoseconds */
  time: string;
}

/** A change in a container's life, as `events` streams it. */
export interface SupervisorEvent {
  /** RFC 3339 with nanoseconds */
  time: string;
  container: string;
  action: 'start' | 'die' | 'restarting' | 'health_status' | 'pause' | 'unpause' | 'remove';
  /** the container's status right after the change */
  status: ContainerStatus;
}
