/** Compose file loading: discover, parse, interpolate, merge, validate and normalize. */
export { loadProject, type LoadOptions } from './loader.js';
export { LIMITS } from './limits.js';
export {
  type Project,
  type Service,
  type Port,
  type VolumeMount,
  type DependsOn,
  type ServiceNetwork,
  type Healthcheck,
  type Network,
  type Volume,
} from './schema.js';
export { type EnvironmentEntry, type VariableSource } from './interpolate.js';
export { parseBytes } from './units.js';
export { parseTmpfsEntry, type TmpfsEntry } from './canonical-volumes.js';
export { securityOptions, type SecurityOptions } from './security-opt.js';
export { readUserFile } from './user-file.js';
export { renderConfig, renderEnvironment } from './render.js';
export { restoreProject, restoreService, type KeptResource } from './restore.js';
