/**
 * The bounds tscompose puts on what a project may ask of it, so that a small hostile file can
 * neither hang the loader nor exhaust its memory or stack (README.md "Limits" lists them).
 * Each is far above what a real project uses.
 */
import { TscError } from '../common/errors.js';

export const LIMITS = {
  /** bytes read from one compose file or env file */
  fileBytes: 8 * 1024 * 1024,
  /**
   * values one load may produce: YAML nodes after anchors, aliases and `<<` merge keys are
   * expanded, port-range entries and what `extends` merges copy (all files of a load together)
   */
  nodes: 100_000,
  /** nesting of mappings and sequences in a compose file */
  depth: 100,
  /** nesting of `${...}` expressions inside one another */
  interpolationDepth: 50,
  /** services in one `extends` chain */
  extendsDepth: 100,
  /** `include` nesting */
  includeDepth: 50,
  /** replicas of one service (`scale`, `deploy.replicas`, `--scale`) */
  replicas: 1000,
  /** containers of the whole project (the sum of every service's replicas) */
  containers: 10_000,
  /** services in one project */
  services: 10_000,
} as const;

/** What one load has produced so far (LIMITS.nodes), shared by the files and included sub-projects of a load. */
export interface NodeBudget {
  nodes: number;
}

/** Counts `n` more values against the budget; `where` and `what` say where and how the load grew too big. */
export function spend(budget: NodeBudget | undefined, n: number, where: string, what: string): void {
  if (!budget) return;
  budget.nodes += n;
  if (budget.nodes > LIMITS.nodes) {
    throw new TscError('SPEC_INVALID', `${where}: the project grows past ${LIMITS.nodes} values once ${what}`, {
      hint: 'an alias, a port range or an extends base repeated many times multiplies the size of a project; write fewer of them',
    });
  }
}

/** The values (mappings, lists, scalars) of a tree, counted without recursion. */
export function countNodes(v: unknown): number {
  let n = 0;
  const stack: unknown[] = [v];
  while (stack.length > 0) {
    const x = stack.pop();
    n++;
    if (Array.isArray(x)) stack.push(...x);
    else if (x !== null && typeof x === 'object') stack.push(...Object.values(x));
  }
  return n;
}
