/**
 * A container's cgroup over cgroup v1, v2 or a hybrid: the ContainerCgroup object (cgroup.ts),
 * its limits (limits.ts), killing its members (kill.ts) and the machine's layout (layout.ts).
 */
export { ContainerCgroup, type CgroupStats } from './cgroup.js';
export { killCgroups } from './kill.js';
export type { CgroupOptions } from './limits.js';
export { detectLayout, parseLayout, controllerVersion, ENGINE_CONTROLLERS, type CgroupLayout } from './layout.js';
