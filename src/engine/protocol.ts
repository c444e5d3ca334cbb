/**
 * The host ↔ init-stage protocol. The host writes an InitConfig file into the bundle and
 * passes its path as argv[2], or, for an init stage started ahead of time (argv[2] is
 * CONFIG_FROM_FD), writes the path and a newline on fd CONFIG_FD once the bundle is ready; the init stage reports on fd 3 (the status channel) as JSON
 * lines. The channel is close-on-exec, so EOF after an `exec` message means the container's
 * command is running; an `error` message names the failing step.
 */
import type { ContainerSpec, ProcessSpec, SeccompMode } from './spec.js';

/** File descriptor number of the status channel in the init and exec stages. */
export const STATUS_FD = 3;

/** argv[2] of an init stage started ahead of time: its config path arrives on CONFIG_FD. */
export const CONFIG_FROM_FD = '--config-from-fd';
export const CONFIG_FD = 4;

export interface InitConfig {
  spec: ContainerSpec;
  /** mount point of the container's root inside the bundle */
  rootfsDir: string;
  /** cgroup.procs files (host paths) the init stage joins just before exec */
  cgroupProcs: string[];
  /** the container's cgroup directories, shown read-only under /sys/fs/cgroup/<name> */
  cgroupViews: Array<{ name: string; dir: string }>;
  /** host devices resolved to type and numbers, created by mknod in the container */
  devices: ResolvedDevice[];
}

export interface ResolvedDevice {
  containerPath: string;
  type: 'c' | 'b';
  major: number;
  minor: number;
  /** permission bits of the host node */
  mode: number;
  uid: number;
  gid: number;
  /** cgroup access, e.g. "rwm" */
  permissions: string;
}

/** What `exec` runs: a command line plus the optional parts of a ProcessSpec. */
export type ExecProcessSpec = Pick<ProcessSpec, 'args' | 'env' | 'tty'> &
  Partial<Pick<ProcessSpec, 'cwd' | 'user' | 'additionalGroups' | 'noNewPrivileges' | 'capabilities' | 'rlimits'>> & {
    /** every capability, as for a privileged container */
    privileged?: boolean;
    /** as ContainerSpec.seccomp (pass the container's) */
    seccomp?: SeccompMode;
  };

export interface ExecConfig {
  /** host pid of the container's PID 1 (its namespaces are joined) */
  targetPid: number;
  cgroupProcs: string[];
  process: ExecProcessSpec;
}

export type StatusMessage =
  | { type: 'step'; step: string }
  | { type: 'exec'; pid: number }
  | { type: 'error'; step: string; message: string; hint?: string; errno?: number; code?: string };
