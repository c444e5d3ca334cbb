/**
 * Runs a plan's actions through a caller-supplied function, as parallel as the `after` edges
 * allow. It makes no decisions of its own: which actions exist and what they wait on is the
 * plan's; what an action does is the caller's. Deterministic start order: among the actions
 * ready at the same time, the one listed first in the plan starts first.
 */
import type { Plan } from './plan.js';
import type { PlanAction } from './types.js';

export interface RunPlanOptions {
  /** most actions in flight at once (default: unlimited) */
  concurrency?: number;
  /** after a failure, keep starting actions that do not depend on it (default: start nothing new) */
  continueOnError?: boolean;
  /** when aborted, start nothing new; actions in flight are awaited */
  signal?: AbortSignal;
  onStart?: (action: PlanAction) => void;
  onDone?: (action: PlanAction) => void;
  onError?: (action: PlanAction, error: unknown) => void;
  /** an action not run because an action it waits on failed or was skipped (or the run stopped) */
  onSkip?: (action: PlanAction, reason: string) => void;
}

export interface PlanRunResult {
  done: string[];
  failed: { id: string; error: unknown }[];
  skipped: string[];
  /** true when every action ran and none failed */
  ok: boolean;
}

export async function runPlan(plan: Plan, run: (action: PlanAction) => Promise<void>, opts: RunPlanOptions = {}): Promise<PlanRunResult> {
  const actions = plan.actions;
  const index = new Map(actions.map((a, i) => [a.id, i]));
  const waitsOn = new Map<string, Set<string>>();
  const dependents = new Map<string, string[]>();
  for (const a of actions) {
    const deps = new Set(a.after.filter((d) => index.has(d)));
    waitsOn.set(a.id, deps);
    for (const d of deps) dependents.set(d, [...(dependents.get(d) ?? []), a.id]);
  }
  const limit = opts.concurrency && opts.concurrency > 0 ? opts.concurrency : Number.POSITIVE_INFINITY;
  const done: string[] = [];
  const failed: { id: string; error: unknown }[] = [];
  const skipped = new Set<string>();
  const started = new Set<string>();
  let inFlight = 0;
  let stopped = false;

  const skip = (id: string, reason: string): void => {
    if (skipped.has(id) || started.has(id)) return;
    skipped.add(id);
    opts.onSkip?.(actions[index.get(id)!]!, reason);
    for (const d of dependents.get(id) ?? []) skip(d, `${id} did not run`);
  };

  return new Promise<PlanRunResult>((resolve) => {
    const finish = (): void => {
      for (const a of actions) if (!started.has(a.id)) skip(a.id, opts.signal?.aborted ? 'the run was aborted' : 'the run stopped after a failure');
      resolve({ done, failed, skipped: actions.filter((a) => skipped.has(a.id)).map((a) => a.id), ok: failed.length === 0 && skipped.size === 0 });
    };
    const pump = (): void => {
      if (opts.signal?.aborted) stopped = true;
      if (!stopped) {
        for (const a of actions) {
          if (inFlight >= limit) break;
          if (started.has(a.id) || skipped.has(a.id) || waitsOn.get(a.id)!.size > 0) continue;
          started.add(a.id);
          inFlight++;
          opts.onStart?.(a);
          Promise.resolve()
            .then(() => run(a))
            .then(
              () => {
                done.push(a.id);
                opts.onDone?.(a);
                for (const d of dependents.get(a.id) ?? []) waitsOn.get(d)!.delete(a.id);
              },
              (error: unknown) => {
                failed.push({ id: a.id, error });
                opts.onError?.(a, error);
                for (const d of dependents.get(a.id) ?? []) skip(d, `${a.id} failed`);
                if (!opts.continueOnError) stopped = true;
              },
            )
            .finally(() => {
              inFlight--;
              pump();
            });
        }
      }
      if (inFlight === 0) finish();
    };
    pump();
  });
}
