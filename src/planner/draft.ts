/**
 * What the steps of `plan()` share: the checked inputs they read (PlanInputs) and the plan
 * being written (PlanDraft: actions in listing order, warnings, and what a later step needs to
 * know about an earlier one's decisions).
 */
import type { DependencyGraph } from './graph.js';
import type { DesiredService, ObservedContainer, PlanAction, PlanOptions } from './types.js';

export interface PlanInputs {
  project: string;
  options: PlanOptions;
  services: Map<string, DesiredService>;
  /** services off by their profiles */
  disabled: Set<string>;
  /** services named on the command line, undefined when none were */
  named?: string[];
  graph: DependencyGraph;
  /** the services this plan acts on (the named ones and, unless noDeps, their dependencies) */
  selected: Set<string>;
  /** every service, dependencies first */
  order: string[];
  /** observed containers of the project's services, sorted by service, number, id */
  byService: Map<string, ObservedContainer[]>;
  /** containers of services not in the project, and exited one-off containers */
  orphans: ObservedContainer[];
}

export type NewAction = Omit<PlanAction, 'id' | 'after'> & { after?: string[] };

export class PlanDraft {
  readonly actions: PlanAction[] = [];
  readonly warnings: string[] = [];
  /** container name → id of the remove-orphan action freeing that name */
  readonly orphanRemovals = new Map<string, string>();
  /** container id → its noop action (running and up to date) */
  readonly noopByContainer = new Map<string, PlanAction>();
  /** service → its recreate actions */
  readonly recreateActions = new Map<string, PlanAction[]>();
  /** services whose containers are replaced by new ones (recreated, or created where none was kept) */
  readonly renewed = new Set<string>();
  private readonly usedIds = new Set<string>();

  /** Appends an action with a unique id `<kind>:<container>` (`#2`, `#3`... on a clash). */
  add(a: NewAction): PlanAction {
    let id = `${a.kind}:${a.container}`;
    for (let i = 2; this.usedIds.has(id); i++) id = `${a.kind}:${a.container}#${i}`;
    this.usedIds.add(id);
    const action: PlanAction = { ...a, id, after: a.after ?? [] };
    this.actions.push(action);
    return action;
  }

  /** Puts the last `count` actions added in the place of `noop`, which leaves the plan. */
  replaceWithLast(noop: PlanAction, count: number): void {
    const added = this.actions.splice(this.actions.length - count);
    this.actions.splice(this.actions.indexOf(noop), 1, ...added);
    this.usedIds.delete(noop.id);
  }
}
