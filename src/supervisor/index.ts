/**
 * The supervisor's public surface for the rest of the product: start/find a project's
 * supervisor and talk to it. The supervisor process itself is dist/bundle/supervisor.mjs (or dist/supervisor/main.js).
 */
export { SupervisorClient, SupervisorStillRunning, connectSupervisor, ensureSupervisor, type EnsureOptions, type LogsOptions } from './client.js';
export type { AttachedRun, AttachHandlers } from './attach-client.js';
export type { WaitCondition, PingResult, RunResult, RemoveOutcome, AttachOptions, AttachedExit } from './protocol.js';
export type { HookContext, SupervisorHook } from './hooks.js';
export { projectPaths, type ProjectPaths } from './paths.js';
export { logOptionsFromCompose, parseLogSize, parseRestartPolicy } from './restart.js';
export { readRecordedLogs, readRecordedStatuses, recordedContainers } from './records.js';
// "recorded running but the process is gone", decided in one place (also for apply's status files)
export { GONE_REASON, recordedProcessGone, settleRecordedStatus, type LivenessOptions } from './liveness.js';
export { rfc3339ToNs } from './logs.js';
export {
  HEALTH_DEFAULTS,
  LOG_DEFAULTS,
  type ContainerState,
  type ContainerStatus,
  type HealthResult,
  type HealthState,
  type HealthStatus,
  type HealthcheckConfig,
  type LogEntry,
  type LogOptions,
  type RestartPolicy,
  type RunConfig,
  type SupervisorEvent,
} from './types.js';
