/** The container engine's public surface. */
export {
  startContainer, stopContainer, killContainer, removeContainer, isOomKilled, containerCgroup,
  processAlive, processStartTime,
  type ContainerIO, type StartedContainer, type EngineOptions,
} from './container.js';
export { ContainerCgroup, detectLayout, parseLayout, type CgroupLayout, type CgroupStats } from './cgroups/index.js';
export * from './spec.js';
