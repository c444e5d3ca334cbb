import { TscError } from '../common/errors.js';
import type { ActionKind, PlanAction } from './types.js';

const SUMMARY_ORDER: ActionKind[] = ['remove-orphan', 'scale-down', 'remove', 'stop', 'recreate', 'create', 'start', 'unpause', 'noop'];
const SUMMARY_WORDS: Record<ActionKind, string> = {
  'remove-orphan': 'orphan to remove',
  'scale-down': 'to scale down',
  remove: 'to remove',
  stop: 'to stop',
  recreate: 'to recreate',
  create: 'to create',
  start: 'to start',
  unpause: 'to unpause',
  noop: 'unchanged',
};
const KIND_WIDTH = Math.max(...SUMMARY_ORDER.map((k) => k.length));

/**
 * An ordered set of actions: `actions` is one valid sequential order (every action comes after
 * the actions in its `after`), while the `after` edges say what may run in parallel.
 */
export class Plan {
  readonly project: string;
  readonly actions: readonly PlanAction[];
  readonly warnings: readonly string[];
  private readonly byId: Map<string, PlanAction>;

  constructor(project: string, actions: PlanAction[], warnings: string[]) {
    this.project = project;
    this.actions = Object.freeze([...actions]);
    this.warnings = Object.freeze([...warnings]);
    this.byId = new Map(actions.map((a) => [a.id, a]));
  }

  /** The actions that change something (everything but noop). */
  get changes(): PlanAction[] {
    return this.actions.filter((a) => a.kind !== 'noop');
  }

  /** True when applying the plan would change nothing. */
  get isEmpty(): boolean {
    return this.changes.length === 0;
  }

  action(id: string): PlanAction | undefined {
    return this.byId.get(id);
  }

  /** Actions of one service, in plan order. */
  forService(service: string): PlanAction[] {
    return this.actions.filter((a) => a.service === service);
  }

  /** One line per kind count, e.g. `1 to create, 2 unchanged`. */
  summary(): string {
    const counts = new Map<ActionKind, number>();
    for (const a of this.actions) counts.set(a.kind, (counts.get(a.kind) ?? 0) + 1);
    if (this.isEmpty) {
      const n = counts.get('noop') ?? 0;
      return n === 0 ? 'nothing to do' : `nothing to do (${n} container${n === 1 ? '' : 's'} up to date)`;
    }
    const parts: string[] = [];
    for (const k of SUMMARY_ORDER) {
      const n = counts.get(k);
      if (!n) continue;
      parts.push(k === 'remove-orphan' ? `${n} orphan${n === 1 ? '' : 's'} to remove` : `${n} ${SUMMARY_WORDS[k]}`);
    }
    return parts.join(', ');
  }

  /**
   * The stable text form (golden tests, `tscompose plan`, `up --dry-run`):
   *
   *     plan for project "demo": 1 to recreate, 1 unchanged
   *       noop          demo-db-1 (db): running, up to date
   *       recreate      demo-web-1 (web): environment.FOO changed [after noop:demo-db-1]
   *     warning: ...
   */
  toString(): string {
    const lines = [`plan for project "${this.project}": ${this.summary()}`];
    for (const a of this.actions) {
      const after = a.after.length ? ` [after ${a.after.join(', ')}]` : '';
      lines.push(`  ${a.kind.padEnd(KIND_WIDTH)} ${a.container} (${a.service}): ${a.reason}${after}`);
    }
    for (const w of this.warnings) lines.push(`warning: ${w}`);
    return lines.join('\n');
  }

  toJSON(): { project: string; actions: PlanAction[]; warnings: string[] } {
    return { project: this.project, actions: this.actions.map((a) => ({ ...a, after: [...a.after] })), warnings: [...this.warnings] };
  }
}

/**
 * Orders actions so each comes after everything in its `after` (Kahn's algorithm), keeping the
 * given order wherever the edges allow it. Edges to unknown ids are ignored.
 */
export function orderActions(actions: PlanAction[]): PlanAction[] {
  const index = new Map(actions.map((a, i) => [a.id, i]));
  const pending = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const a of actions) {
    const deps = a.after.filter((d) => index.has(d));
    pending.set(a.id, deps.length);
    for (const d of deps) dependents.set(d, [...(dependents.get(d) ?? []), a.id]);
  }
  const ready = actions.filter((a) => pending.get(a.id) === 0).map((a) => index.get(a.id)!);
  const out: PlanAction[] = [];
  while (ready.length) {
    ready.sort((x, y) => x - y);
    const i = ready.shift()!;
    const a = actions[i]!;
    out.push(a);
    for (const d of dependents.get(a.id) ?? []) {
      const left = pending.get(d)! - 1;
      pending.set(d, left);
      if (left === 0) ready.push(index.get(d)!);
    }
  }
  if (out.length !== actions.length) {
    // cannot happen for plans made by reconcile (their edges follow an acyclic graph)
    throw new TscError('INTERNAL', `plan for actions ${actions.map((a) => a.id).join(', ')} has cyclic \`after\` edges`);
  }
  return out;
}
