export * from './types.js';
export { Plan } from './plan.js';
export { plan } from './reconcile.js';
export { planDown, type DownOptions } from './plan-down.js';
export { configHash, hashableDefinition } from './hash.js';
export { runPlan, type PlanRunResult, type RunPlanOptions } from './run.js';
