/**
 * The low-level container spec the engine runs. The engine knows nothing of Compose: the apply
 * layer turns a service (plus its image config) into one of these. Everything here is resolved:
 * absolute host paths, bytes, microseconds, numeric signals.
 */

import type { DockerSeccompProfile } from './init/seccomp/profile.js';

export interface BindMount {
  type: 'bind';
  /** Absolute host path (a named volume is its _data directory under the state root). */
  source: string;
  /** Absolute path inside the container. */
  target: string;
  readonly: boolean;
  /** Create `source` as a directory when missing (Compose's short syntax does this). */
  createHostPath?: boolean;
  propagation?: 'rprivate' | 'private' | 'rshared' | 'shared' | 'rslave' | 'slave';
}

export interface TmpfsMount {
  type: 'tmpfs';
  target: string;
  /** bytes; undefined = kernel default (half of RAM) */
  size?: number;
  mode?: number;
  readonly?: boolean;
  /**
   * Further mount options as Compose writes them after the path (`/run:noexec,uid=1000`):
   * flags (ro, rw, noexec, exec, nosuid, suid, nodev, dev, noatime, atime, relatime,
   * strictatime, nodiratime, diratime) and data (uid=, gid=, nr_inodes=, nr_blocks=).
   */
  options?: string[];
}

export type Mount = BindMount | TmpfsMount;

/** A container's seccomp filter (ContainerSpec.seccomp); `file` names a profile in messages. */
export type SeccompMode = 'default' | 'unconfined' | { file: string; profile: DockerSeccompProfile };

/** A host device made available in the container (Compose `devices:`). */
export interface DeviceMapping {
  /** absolute host path of a character or block device, e.g. /dev/fuse */
  hostPath: string;
  /** absolute path inside the container (defaults to hostPath) */
  containerPath?: string;
  /** cgroup access: any of r, w, m (default "rwm") */
  permissions?: string;
}

export interface Resources {
  /** memory limit in bytes */
  memory?: number;
  /** memory+swap limit in bytes (Docker: defaults to 2 × memory when memory is set); -1 = unlimited */
  memorySwap?: number;
  /** memory soft limit (reservation) in bytes */
  memoryReservation?: number;
  /** CFS quota and period in microseconds (cpus: 1.5 → quota 150000, period 100000) */
  cpuQuota?: number;
  cpuPeriod?: number;
  /** relative weight, Docker's cpu_shares scale (2..262144, default 1024) */
  cpuShares?: number;
  /** cpuset.cpus, e.g. "0-1" */
  cpusetCpus?: string;
  cpusetMems?: string;
  /** max number of tasks; -1 or undefined = unlimited */
  pidsLimit?: number;
}

export interface Rlimit {
  /** e.g. "nofile", "nproc", "core" */
  name: string;
  soft: number;
  hard: number;
}

export type NetnsSpec =
  /** share the host's network namespace (network_mode: host) */
  | { kind: 'host' }
  /** a new namespace with only loopback (network_mode: none) */
  | { kind: 'none' }
  /** join an existing namespace: a persistent netns file made by src/network, or /proc/PID/ns/net */
  | { kind: 'path'; path: string };

export interface ProcessSpec {
  /** argv; args[0] is looked up in PATH of `env` inside the container when not absolute */
  args: string[];
  /** "KEY=value" entries, final (image env + env_file + environment already combined) */
  env: string[];
  /** absolute working directory inside the container ("/" by default) */
  cwd: string;
  /** Compose/Docker `user:` string: "name", "uid", "uid:gid", "name:group"; resolved inside the image's /etc/passwd and /etc/group. Empty = root. */
  user?: string;
  /** extra supplementary groups (group_add) by name or gid */
  additionalGroups?: string[];
  tty: boolean;
  /** keep stdin open (stdin_open) */
  openStdin?: boolean;
  noNewPrivileges: boolean;
  /** Capability names without the CAP_ prefix, final set (defaults ± cap_add/cap_drop already applied). */
  capabilities: string[];
  rlimits: Rlimit[];
  /** run a minimal reaper as PID 1 with the command as its child (init: true) */
  init: boolean;
}

export interface ContainerSpec {
  /** unique container id: [a-zA-Z0-9][a-zA-Z0-9_.-]*, also the container name shown to users */
  id: string;
  /** per-container directory owned by the engine: upper/work dirs, etc files, status */
  bundleDir: string;
  rootfs: {
    /** layer directories, TOP-MOST FIRST (overlayfs lowerdir order) */
    lowerDirs: string[];
    readonly: boolean;
  };
  hostname: string;
  domainname?: string;
  process: ProcessSpec;
  mounts: Mount[];
  resources: Resources;
  /** cgroup path relative to each hierarchy root: `cgroupPathFor(project, container)` */
  cgroupPath: string;
  netns: NetnsSpec;
  /** contents of the files bind-mounted over /etc/hosts, /etc/hostname, /etc/resolv.conf */
  etc: { hosts: string; hostname: string; resolvConf: string };
  sysctls: Record<string, string>;
  /** host devices to create in the container's /dev and allow in its device cgroup */
  devices?: DeviceMapping[];
  /** size of /dev/shm in bytes (Compose shm_size); 64 MiB when unset, as Docker */
  shmSize?: number;
  privileged: boolean;
  /**
   * 'default' (when unset and not privileged): refuse the syscalls Docker's default profile
   * refuses without the matching capability; 'unconfined': no filter (security_opt seccomp=unconfined);
   * a profile of Docker's format (security_opt seccomp=<file>), checked with `checkSeccompProfile`.
   */
  seccomp?: SeccompMode;
  readonlyPaths?: string[];
  maskedPaths?: string[];
}

/**
 * The cgroup path of a project's container, relative to each hierarchy root:
 * `tscompose/<project>/<container>`; without a container, the project's own subtree
 * `tscompose/<project>` (what `removeCgroupTree` clears).
 */
export function cgroupPathFor(project: string, container?: string): string {
  return container === undefined ? `tscompose/${project}` : `tscompose/${project}/${container}`;
}

export { CAPABILITY_NAMES, DEFAULT_CAPABILITIES } from '../common/capabilities.js';
