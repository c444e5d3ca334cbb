/** Compose file loading: discover, parse, interpolate, merge, validate and normalize. */
export { loadProject, type LoadOptions } from './loader.js';
export { normalizeProjectName } from './project-name.js';
export { LIMITS } from './limits.js';
export { DISCOVERY_NAMES } from './discover.js';
export { findCycle } from '../common/graph.js';
export {
  ComposeFileSchema,
  ProjectSchema,
  ServiceSchema,
  type Project,
  type Service,
  type Port,
  type VolumeMount,
  type DependsOn,
  type ServiceNetwork,
  type Healthcheck,
  type Network,
  type Volume,
  type ComposeFileInput,
} from './schema.js';
export { type EnvironmentEntry, type VariableSource } from './interpolate.js';
export { parseDuration, formatDuration, parseBytes } from './units.js';
export { splitShellWords } from './shell.js';
export { parseTmpfsEntry, type TmpfsEntry } from './canonical-volumes.js';
export { securityOptions, type SecurityOptions } from './security-opt.js';
export { isCapability, CAPABILITIES } from './canonical-service.js';
export { parseEnvFile } from './dotenv.js';
export { renderConfig, renderEnvironment, configView } from './render.js';
export { composeJsonSchema } from './jsonschema.js';
export { HEALTHCHECK_DEFAULTS, DEFAULT_STOP_GRACE_PERIOD, DEFAULT_STOP_SIGNAL, DEFAULT_RESTART } from './defaults.js';
