export * from './paths.js';
export * from './schema.js';
export * from './store.js';
export * from './lock.js';
