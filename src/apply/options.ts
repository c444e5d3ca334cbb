/**
 * The options and progress interface of `up` (and of what it waits on), apart from up.ts so
 * that wait.ts, which up.ts uses, does not import up.ts back.
 */
import type { PlanOptions } from '../planner/index.js';

export type PullPolicy = 'always' | 'missing' | 'never' | 'build';

/** Progress of operations, rendered by the CLI (listr2 on a terminal, plain lines otherwise). */
export interface Progress {
  begin(id: string, title: string): void;
  update(id: string, text: string): void;
  done(id: string, text: string): void;
  fail(id: string, text: string): void;
  skip(id: string, text: string): void;
  warn(text: string): void;
}

export const silentProgress: Progress = {
  begin() {},
  update() {},
  done() {},
  fail() {},
  skip() {},
  warn() {},
};

export interface UpOptions extends PlanOptions {
  pull?: PullPolicy;
  dryRun?: boolean;
  /** wait for every container to be running/healthy (or exited 0 for one-shots) */
  wait?: boolean;
  waitTimeoutMs?: number;
  /** stop timeout for containers being replaced */
  timeoutMs?: number;
}
