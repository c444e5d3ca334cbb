/**
 * Dependency graphs: the one cycle finder, shared by the compose loader (to report a cycle
 * where it is declared) and the planner (to refuse a plan). Names are walked in sorted order,
 * so the same files always name the same cycle (compose-go's graph/cycle.go does the same).
 */

/** name → names it depends on; names that are not keys of the graph are ignored */
export type Graph = ReadonlyMap<string, readonly string[]> | Readonly<Record<string, readonly string[]>>;

/** The first cycle found walking in sorted order, as a closed path ["a", "b", "a"], or undefined. */
export function findCycle(graph: Graph): string[] | undefined {
  const map = asMap(graph);
  const state = new Map<string, 'open' | 'done'>();
  for (const root of [...map.keys()].sort()) {
    if (state.has(root)) continue;
    // an explicit stack, so a chain of thousands of services cannot overflow the call stack
    const path: string[] = [root];
    const pending: string[][] = [[...(map.get(root) ?? [])].sort()];
    state.set(root, 'open');
    while (path.length) {
      const next = pending[pending.length - 1]!.shift();
      if (next === undefined) {
        state.set(path.pop()!, 'done');
        pending.pop();
        continue;
      }
      if (!map.has(next)) continue;
      const s = state.get(next);
      if (s === 'open') return [...path.slice(path.indexOf(next)), next];
      if (s === 'done') continue;
      state.set(next, 'open');
      path.push(next);
      pending.push([...(map.get(next) ?? [])].sort());
    }
  }
  return undefined;
}

function asMap(graph: Graph): ReadonlyMap<string, readonly string[]> {
  return graph instanceof Map ? graph : new Map(Object.entries(graph));
}

/**
 * Level of every name: 0 without dependencies, else 1 + the highest level among them. The
 * graph must be acyclic. Iterative, like findCycle.
 */
export function dependencyLevels(graph: Graph): Map<string, number> {
  const map = asMap(graph);
  const level = new Map<string, number>();
  for (const root of map.keys()) {
    if (level.has(root)) continue;
    const stack: string[] = [root];
    while (stack.length) {
      const n = stack[stack.length - 1]!;
      let l = 0;
      let waiting = false;
      for (const d of map.get(n) ?? []) {
        if (!map.has(d)) continue;
        const dl = level.get(d);
        if (dl === undefined) {
          stack.push(d);
          waiting = true;
        } else l = Math.max(l, dl + 1);
      }
      if (waiting) continue;
      level.set(n, l);
      stack.pop();
    }
  }
  return level;
}

/** Every name reachable from `roots` through dependencies (the roots included), names not in the graph left out. */
export function reachable(graph: Graph, roots: Iterable<string>): Set<string> {
  const map = asMap(graph);
  const out = new Set<string>();
  const stack = [...roots];
  while (stack.length) {
    const n = stack.pop()!;
    if (out.has(n) || !map.has(n)) continue;
    out.add(n);
    stack.push(...(map.get(n) ?? []));
  }
  return out;
}
