/**
 * Dependency graphs: the one cycle finder, shared by the compose loader (to report a cycle
 * where it is declared) and the planner (to refuse a plan). Names are walked in sorted order,
 * so the same files always name the same cycle (compose-go's graph/cycle.go does the same).
 */

/** name → names it depends on; names that are not keys of the graph are ignored */
export type Graph = ReadonlyMap<string, readonly string[]> | Readonly<Record<string, readonly string[]>>;

/** The first cycle found walking in sorted order, as a closed path ["a", "b", "a"], or undefined. */
export function findCycle(graph: Graph): string[] | undefined {
  const map: ReadonlyMap<string, readonly string[]> = graph instanceof Map ? graph : new Map(Object.entries(graph));
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
