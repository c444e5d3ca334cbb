/**
 * The daemon's in-memory view of one container (`Managed`) and of one run of its process
 * (`RunHandle`). Plain data: the behaviour is in the modules that take a SupervisorCore (core.ts).
 */
import type net from 'node:net';
import type { Attachment } from './attach.js';
import type { HealthMonitor } from './health.js';
import type { LogWriter } from './logs.js';
import { bundleFiles, type BundleFiles } from './paths.js';
import { LOG_DEFAULTS, type ContainerStatus, type LogOptions, type RunConfig } from './types.js';

export const BACKOFF_START_MS = 100;

export interface RunHandle {
  token: number;
  readers: net.Socket[];
  /** settles once the exit of this run has been fully handled */
  done: Promise<void>;
  resolveDone: () => void;
  health: HealthMonitor | null;
  stopWatch: () => void;
}

export interface Managed {
  config: RunConfig;
  files: BundleFiles;
  logOpts: LogOptions;
  /** read freely; changed only through the RecordStore (store.ts), which persists it */
  status: ContainerStatus;
  writer: LogWriter | null;
  run: RunHandle | null;
  restartTimer: NodeJS.Timeout | null;
  backoffMs: number;
  /** `logs --follow` requests taking live lines: json-file lines as written (null: the container is gone); one whose connection is full leaves the set and reads the files */
  followers: Set<(lines: string | null) => void>;
  /** its record is gone (the lifecycle's `removed`) */
  removed: boolean;
  /** a run request or a restart is starting it right now */
  starting: boolean;
  /** settles when that start has finished (either way) */
  startDone: Promise<unknown> | null;
  /** an attached run's relay to its client (attach.ts): set for the run it was asked for */
  attach: Attachment | null;
}

export function newManaged(config: RunConfig, status: ContainerStatus): Managed {
  return {
    config,
    files: bundleFiles(config.spec.bundleDir),
    logOpts: { ...LOG_DEFAULTS, ...(config.log ?? {}) },
    status,
    writer: null,
    run: null,
    restartTimer: null,
    backoffMs: BACKOFF_START_MS,
    followers: new Set(),
    removed: false,
    starting: false,
    startDone: null,
    attach: null,
  };
}

export function newRun(token: number): RunHandle {
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  return { token, readers: [], done, resolveDone, health: null, stopWatch: () => {} };
}

export function cancelRestart(m: Managed): void {
  if (m.restartTimer) clearTimeout(m.restartTimer);
  m.restartTimer = null;
}
