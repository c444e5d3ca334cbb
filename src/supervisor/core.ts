/**
 * What the supervisor's modules share: one SupervisorCore per supervisor process, made by
 * supervisor.ts and handed to adoption, run-loop, health-runner, log-pump, hook-runner, queries.
 */
import type { EventBus } from './bus.js';
import type { SupervisorHook } from './hooks.js';
import type { Managed } from './managed.js';
import type { ContainerRuntime } from './runtime.js';
import type { RecordStore } from './store.js';

/** What the supervisor's modules share: one per supervisor process. */
export interface SupervisorCore {
  readonly project: string;
  readonly runtime: ContainerRuntime;
  readonly hooks: SupervisorHook[];
  readonly log: (line: string) => void;
  readonly containers: Map<string, Managed>;
  readonly store: RecordStore;
  readonly bus: EventBus;
  /** the supervisor is shutting down: no restarts */
  isClosed(): boolean;
  /** a token for a new run (a late exit of an older run is ignored by its token) */
  newToken(): number;
}
