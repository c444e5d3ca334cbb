export * from './types.js';
export { Plan, orderActions } from './plan.js';
export { plan } from './reconcile.js';
export { planDown, type DownOptions } from './plan-down.js';
export { containerNameFor } from './services.js';
export { divergence, sharedResourceRefs } from './divergence.js';
export { canonicalJson, configHash, diffDefinitions, hashableDefinition, HASH_IGNORED_FIELDS, type DiffOptions } from './hash.js';
export { assertAcyclic, dependencyLevels, dependencyOrder, findCycle, withDependencies, type DependencyGraph } from './graph.js';
export { runPlan, type PlanRunResult, type RunPlanOptions } from './run.js';
