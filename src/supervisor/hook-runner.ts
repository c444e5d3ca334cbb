/** Calling the registered SupervisorHooks (hooks.ts) around a container's start, exit and removal. */
import type { HookContext, SupervisorHook } from './hooks.js';
import type { SupervisorCore } from './core.js';
import type { Managed } from './managed.js';

/** Hooks that must succeed before a start (the first failure aborts it; earlier ones are undone). */
export async function beforeStartHooks(core: SupervisorCore, m: Managed): Promise<void> {
  const ctx: HookContext = { id: m.config.spec.id, pid: null, config: m.config, status: m.status };
  const done: SupervisorHook[] = [];
  for (const h of core.hooks) {
    if (!h.beforeStart) continue;
    try {
      await h.beforeStart.call(h, ctx);
      done.push(h);
    } catch (err) {
      for (const d of done) await Promise.resolve(d.onContainerExit?.call(d, ctx)).catch(() => undefined);
      throw err;
    }
  }
}

/** Tells every hook; a failing hook is logged and never stops a container. */
export async function callHooks(
  core: SupervisorCore,
  event: 'onContainerStart' | 'onContainerExit' | 'onContainerRemove',
  m: Managed,
  pid?: number | null,
): Promise<void> {
  const ctx: HookContext = { id: m.config.spec.id, pid: pid ?? m.status.pid, config: m.config, status: m.status };
  for (const h of core.hooks) {
    const fn = h[event];
    if (!fn) continue;
    try {
      await fn.call(h, ctx);
    } catch (err) {
      core.log(`hook ${h.name}: ${event} for ${ctx.id} failed: ${(err as Error).message}`);
    }
  }
}

export async function closeHooks(core: SupervisorCore): Promise<void> {
  for (const h of core.hooks) {
    try {
      await h.close?.();
    } catch (err) {
      core.log(`hook ${h.name}: close failed: ${(err as Error).message}`);
    }
  }
}
