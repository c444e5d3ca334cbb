/** The container engine's public surface. */
export {
  startContainer,
  prepareInitStage,
  discardInitStage,
  stopContainer,
  stopContainers,
  killContainer,
  removeContainer,
  isOomKilled,
  containerCgroup,
  containerStats,
  removeCgroupTree,
  pauseContainer,
  unpauseContainer,
  isPaused,
  processAlive,
  processStartTime,
  type ContainerIO,
  type StartedContainer,
  type EngineOptions,
  type PreparedInitStage,
} from './container.js';
export { ContainerCgroup, killCgroups, type CgroupLayout, type CgroupStats } from './cgroups/index.js';
export { execInContainer, type ExecTarget, type ExecProcessSpec } from './exec.js';
export { ensureVolume, populateVolume, removeVolume, listVolumes, inspectVolume, volumeDir, type VolumeInfo } from './volumes.js';
export * from './spec.js';
export { checkProfile as checkSeccompProfile } from './init/seccomp/index.js';
