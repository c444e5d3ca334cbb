export * from './types.js';
export { Plan, orderActions } from './plan.js';
export { plan, planDown, containerNameFor, divergence, sharedResourceRefs, type DownOptions } from './reconcile.js';
export { canonicalJson, configHash, diffDefinitions, hashableDefinition, HASH_IGNORED_FIELDS, type DiffOptions } from './hash.js';
export { assertAcyclic, dependencyLevels, dependencyOrder, findCycle, withDependencies, type DependencyGraph } from './graph.js';
export { runPlan, type PlanRunResult, type RunPlanOptions } from './run.js';
