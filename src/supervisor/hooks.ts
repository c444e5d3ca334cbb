/**
 * Extension point for services that live in the supervisor process next to the containers
 * (service-name DNS, published-port proxies). A hook sees each container start and exit with
 * the run request's opaque `network` data. Hooks are given to runSupervisor() by the entry
 * point; a failing hook is reported in the supervisor log and never stops a container.
 */
import type { ContainerStatus, RunConfig } from './types.js';

export interface HookContext {
  id: string;
  /** the container's first process while running (null on exit) */
  pid: number | null;
  config: RunConfig;
  status: ContainerStatus;
}

export interface SupervisorHook {
  name: string;
  /**
   * before the container's process is started: a throw aborts the start and becomes the run
   * request's error (published ports bind here, so a taken port fails the start cleanly)
   */
  beforeStart?(ctx: HookContext): void | Promise<void>;
  /** after the container started (also for a re-adopted container when the supervisor starts) */
  onContainerStart?(ctx: HookContext): void | Promise<void>;
  /** after the container's process exited (before any restart) */
  onContainerExit?(ctx: HookContext): void | Promise<void>;
  /** after the container was removed */
  onContainerRemove?(ctx: HookContext): void | Promise<void>;
  /** when the supervisor shuts down */
  close?(): void | Promise<void>;
}
