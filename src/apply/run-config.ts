/**
 * Turns one Compose service (normalized model) plus its image into what the supervisor runs:
 * the engine's ContainerSpec, the restart policy, the healthcheck and the stop settings.
 * Combination rules follow Docker/Compose: image env < env_file < environment; a Compose
 * `entrypoint` clears the image's ENTRYPOINT *and* CMD; `command` replaces CMD.
 */
import os from 'node:os';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TscError } from '../common/errors.js';
import { checkSeccompProfile } from '../engine/index.js';
import {
  CAPABILITY_NAMES,
  DEFAULT_CAPABILITIES,
  cgroupPathFor,
  type ContainerSpec,
  type SeccompMode,
  type Mount,
  type NetnsSpec,
  type Resources,
  type Rlimit,
} from '../engine/spec.js';
import type { ImageRecord } from '../images/types.js';
import { hostsFile, resolvConf } from '../network/index.js';
import { parseBytes, parseTmpfsEntry, readUserFile, securityOptions, type DependsOn, type Service } from '../compose/index.js';
import { logOptionsFromCompose, parseRestartPolicy } from '../supervisor/index.js';
import type { HealthcheckConfig, RunConfig } from '../supervisor/types.js';

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** One network the container is attached to, in the order of its interfaces (eth0 first). */
export interface AttachedNetwork {
  /** network key in the compose file */
  key: string;
  /** the network's name (bridge-level), e.g. "demo_default" */
  name: string;
  address: string;
  gateway: string;
  /** an internal network: its resolver forwards nothing outside */
  internal: boolean;
  /** DNS names on this network: service name, container name, aliases */
  aliases: string[];
}

/** What the service's container is run with beyond the service itself (overrides for `run`). */
export interface RunOverrides {
  /** replaces the command (CMD) */
  command?: string[];
  /** replaces the entrypoint (and clears the image's CMD, as `--entrypoint` does) */
  entrypoint?: string[];
  env?: Record<string, string>;
  user?: string;
  workingDir?: string;
  tty?: boolean;
  openStdin?: boolean;
  /** one-off containers never restart */
  restart?: string;
}

export interface RunConfigInput {
  root: string;
  project: string;
  /** the project directory: the base of a relative seccomp profile path (security_opt) */
  projectDir: string;
  service: Service;
  image: ImageRecord;
  /** image layer directories, top-most first */
  lowerDirs: string[];
  /** container name (= engine id) */
  name: string;
  /** the container's public id (64 hex): its first 12 are the default hostname, as in Docker */
  containerId?: string;
  /** network_mode service:/container:, the hostname of the container whose network it joins */
  sharedHostname?: string;
  /** more of the labels Compose puts on a container (config-hash, image, working_dir, config_files) */
  composeLabels?: Record<string, string>;
  number: number;
  bundleDir: string;
  netns: NetnsSpec;
  networks: AttachedNetwork[];
  /** host path of each named volume by its key in the compose file */
  volumePaths: Record<string, string>;
  /** host paths of anonymous volumes, by container target path */
  anonymousVolumes: Record<string, string>;
  overrides?: RunOverrides;
  oneOff?: boolean;
}

export function buildRunConfig(i: RunConfigInput): RunConfig {
  const s = i.service;
  const o = i.overrides ?? {};
  const cfg = i.image.config ?? {};

  // entrypoint / command
  let entrypoint: string[];
  let command: string[];
  if (o.entrypoint !== undefined) {
    entrypoint = o.entrypoint;
    command = o.command ?? [];
  } else if (s.entrypoint !== null) {
    entrypoint = s.entrypoint;
    command = o.command ?? s.command ?? [];
  } else {
    entrypoint = cfg.Entrypoint ?? [];
    command = o.command ?? s.command ?? cfg.Cmd ?? [];
  }
  const args = [...entrypoint, ...command];
  if (args.length === 0) {
    throw new TscError('SPEC_INVALID', `service "${s.name}" has no command: neither the service nor its image "${s.image}" sets an entrypoint or a command`, {
      hint: 'add `command:` to the service',
    });
  }

  // Docker: the short container id; with the host's network, the host's name
  const hostname = s.hostname ?? i.sharedHostname ?? (i.netns.kind === 'host' ? os.hostname() : i.containerId ? i.containerId.slice(0, 12) : s.name);
  const env = buildEnv(cfg.Env ?? [], s.environment, o.env ?? {}, hostname);

  const user = o.user ?? s.user ?? cfg.User ?? '';
  const cwd = o.workingDir ?? s.working_dir ?? (cfg.WorkingDir || '/');
  const tty = o.tty ?? s.tty ?? false;

  const caps = capabilities(s);
  const spec: ContainerSpec = {
    id: i.name,
    bundleDir: i.bundleDir,
    rootfs: { lowerDirs: i.lowerDirs, readonly: s.read_only ?? false },
    hostname,
    domainname: s.domainname,
    process: {
      args,
      env,
      cwd,
      user: user || undefined,
      additionalGroups: s.group_add.length ? s.group_add : undefined,
      tty,
      openStdin: o.openStdin ?? s.stdin_open ?? false,
      noNewPrivileges: securityOpt(s).noNewPrivileges,
      capabilities: caps,
      rlimits: rlimits(s),
      init: s.init ?? false,
    },
    mounts: mounts(i),
    resources: resources(s),
    cgroupPath: cgroupPathFor(i.project, i.name),
    netns: i.netns,
    etc: etcFiles(i, hostname),
    sysctls: s.sysctls,
    privileged: s.privileged ?? false,
  };
  // unset keeps the engine's choice: the default filter, none when privileged
  const seccomp = seccompMode(s, i.projectDir, caps);
  if (seccomp) spec.seccomp = seccomp;
  const shm = s.unsupported?.shm_size;
  if (shm !== undefined) spec.shmSize = typeof shm === 'number' ? shm : parseBytes(String(shm));

  return {
    spec,
    restart: parseRestartPolicy(o.restart ?? s.restart ?? 'no'),
    healthcheck: healthcheck(s, i.image),
    stopSignal: s.stop_signal ?? cfg.StopSignal ?? undefined,
    stopGraceMs: s.stop_grace_period,
    log: logOptionsFromCompose(s.unsupported?.logging as Parameters<typeof logOptionsFromCompose>[0]),
    labels: {
      'com.docker.compose.project': i.project,
      'com.docker.compose.service': s.name,
      'com.docker.compose.container-number': String(i.number),
      'com.docker.compose.oneoff': i.oneOff ? 'True' : 'False',
      [DEPENDS_ON_LABEL]: dependsOnLabel(s.depends_on),
      ...i.composeLabels,
      ...s.labels,
    },
  };
}

/** Compose's label of a container's dependencies: `service:condition:restart`, comma-separated, sorted. */
export const DEPENDS_ON_LABEL = 'com.docker.compose.depends_on';

export function dependsOnLabel(dependsOn: Service['depends_on']): string {
  return Object.entries(dependsOn)
    .map(([dep, d]) => `${dep}:${d.condition}:${d.restart === true}`)
    .sort()
    .join(',');
}

/**
 * The dependencies a label names. The label does not say whether one is required; as Compose
 * does for a project known by its containers, none is (a dependency whose containers are gone is
 * no error). An unknown condition is read as `service_started`.
 */
export function parseDependsOnLabel(text: string | undefined): Record<string, DependsOn> {
  const out: Record<string, DependsOn> = {};
  for (const entry of (text ?? '').split(',')) {
    const [dep, condition, restart] = entry.split(':');
    if (!dep) continue;
    const known = condition === 'service_healthy' || condition === 'service_completed_successfully';
    out[dep] = { condition: known ? condition : 'service_started', restart: restart !== 'false', required: false };
  }
  return out;
}

export function buildEnv(imageEnv: string[], environment: Record<string, string | null>, extra: Record<string, string>, hostname: string): string[] {
  const env = new Map<string, string>();
  for (const e of imageEnv) {
    const eq = e.indexOf('=');
    if (eq > 0) env.set(e.slice(0, eq), e.slice(eq + 1));
  }
  for (const [k, v] of Object.entries(environment)) if (v !== null) env.set(k, v);
  for (const [k, v] of Object.entries(extra)) env.set(k, v);
  if (!env.has('PATH')) env.set('PATH', DEFAULT_PATH.slice(5));
  if (!env.has('HOSTNAME')) env.set('HOSTNAME', hostname);
  return [...env].map(([k, v]) => `${k}=${v}`);
}

/** What the service's security_opt asks for (the loader keeps it in `unsupported`). */
function securityOpt(s: Service) {
  return securityOptions(s.unsupported?.security_opt ?? s.extensions?.security_opt);
}

/** security_opt seccomp=unconfined, or seccomp=<file>: the profile read and checked (relative to the project directory, as Compose). */
function seccompMode(s: Service, projectDir: string, caps: string[]): SeccompMode | undefined {
  const o = securityOpt(s);
  if (o.seccompUnconfined) return 'unconfined';
  if (o.seccompProfile === undefined || s.privileged) return undefined;
  const file = path.resolve(projectDir, o.seccompProfile);
  return { file, profile: checkSeccompProfile(readUserFile(file, `seccomp profile of service "${s.name}"`), file, caps) };
}

function capName(c: string): string {
  return c.toUpperCase().replace(/^CAP_/, '');
}

/** Docker's default set, then cap_drop, then cap_add (ALL supported on both sides). */
export function capabilities(s: Pick<Service, 'cap_add' | 'cap_drop' | 'privileged'>): string[] {
  if (s.privileged) return ['ALL'];
  const add = s.cap_add.map(capName);
  const drop = s.cap_drop.map(capName);
  if (add.includes('ALL')) return drop.length === 0 ? ['ALL'] : CAPABILITY_NAMES.filter((c) => !drop.includes(c));
  const base = drop.includes('ALL') ? [] : DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c));
  const set = [...base];
  for (const a of add) if (!set.includes(a)) set.push(a);
  return set;
}

const ULIMIT_NAMES = new Set([
  'core',
  'cpu',
  'data',
  'fsize',
  'locks',
  'memlock',
  'msgqueue',
  'nice',
  'nofile',
  'nproc',
  'rss',
  'rtprio',
  'rttime',
  'sigpending',
  'stack',
  'as',
]);

function rlimits(s: Service): Rlimit[] {
  const out: Rlimit[] = [];
  for (const [name, v] of Object.entries(s.ulimits)) {
    if (!ULIMIT_NAMES.has(name)) {
      throw new TscError('SPEC_INVALID', `service "${s.name}": unknown ulimit "${name}"`, { hint: `known: ${[...ULIMIT_NAMES].join(', ')}` });
    }
    out.push({ name, soft: v.soft, hard: v.hard });
  }
  return out;
}

/** Resource limits the way Docker sets them (memory+swap = 2 × memory unless memswap_limit). */
export function resources(s: Service): Resources {
  const r: Resources = {};
  const limits = s.deploy?.resources?.limits;
  const memory = limits?.memory ?? s.mem_limit;
  if (memory !== undefined && memory > 0) {
    r.memory = memory;
    if (s.memswap_limit !== undefined) r.memorySwap = s.memswap_limit === -1 ? -1 : s.memswap_limit;
    else r.memorySwap = memory * 2;
  }
  const reservation = s.deploy?.resources?.reservations?.memory ?? s.mem_reservation;
  if (reservation !== undefined) r.memoryReservation = reservation;
  const cpus = limits?.cpus ?? s.cpus;
  if (cpus !== undefined && cpus > 0) {
    r.cpuPeriod = s.cpu_period ?? 100_000;
    r.cpuQuota = Math.round(cpus * r.cpuPeriod);
  } else if (s.cpu_quota !== undefined) {
    r.cpuQuota = s.cpu_quota;
    r.cpuPeriod = s.cpu_period ?? 100_000;
  }
  if (s.cpu_shares !== undefined) r.cpuShares = s.cpu_shares;
  if (s.cpuset !== undefined) r.cpusetCpus = s.cpuset;
  const pids = limits?.pids ?? s.pids_limit;
  if (pids !== undefined && pids !== 0) r.pidsLimit = pids;
  return r;
}

function mounts(i: RunConfigInput): Mount[] {
  const s = i.service;
  const out: Mount[] = [];
  for (const v of s.volumes) {
    switch (v.type) {
      case 'bind':
        out.push({
          type: 'bind',
          source: path.resolve(v.source ?? ''),
          target: v.target,
          readonly: v.read_only,
          createHostPath: v.bind?.create_host_path ?? true,
          propagation: v.bind?.propagation as 'rprivate' | undefined,
        });
        break;
      case 'volume': {
        const src = v.source !== undefined ? i.volumePaths[v.source] : i.anonymousVolumes[v.target];
        if (!src) throw new TscError('SPEC_REFERENCE', `service "${s.name}": volume "${v.source ?? v.target}" has no data directory`);
        out.push({ type: 'bind', source: src, target: v.target, readonly: v.read_only, createHostPath: false });
        break;
      }
      case 'tmpfs':
        out.push({ type: 'tmpfs', target: v.target, size: v.tmpfs?.size, mode: v.tmpfs?.mode, readonly: v.read_only });
        break;
      default:
        throw new TscError('SPEC_UNSUPPORTED', `service "${s.name}": volumes of type "${v.type}" (${v.target}) are not supported by tscompose yet`);
    }
  }
  for (const t of s.tmpfs) {
    // the compose model's one parser (validated at load; an entry made by hand is checked here)
    const p = parseTmpfsEntry(t);
    if (typeof p === 'string') throw new TscError('SPEC_INVALID', `service "${s.name}": ${p}`);
    out.push({ type: 'tmpfs', target: p.target, size: p.size, mode: p.mode, options: p.options.length ? p.options : undefined });
  }
  return out;
}

function etcFiles(i: RunConfigInput, hostname: string): ContainerSpec['etc'] {
  const s = i.service;
  const first = i.networks[0];
  const extraHosts: Array<{ name: string; ip: string }> = [];
  for (const [name, ips] of Object.entries(s.extra_hosts)) {
    for (const ip of ips) extraHosts.push({ name, ip: ip === 'host-gateway' ? (first?.gateway ?? '127.0.0.1') : ip });
  }
  const hosts = hostsFile({
    hostname,
    names: [i.name],
    address: first?.address,
    extraHosts,
  });
  let resolv: string;
  if (s.dns.length > 0) {
    resolv = resolvConf({ nameserver: s.dns[0]!, search: s.dns_search, options: s.dns_opt });
    for (const extra of s.dns.slice(1)) resolv = `nameserver ${extra}\n` + resolv;
  } else if (first) {
    resolv = resolvConf({ nameserver: first.gateway, search: s.dns_search, options: s.dns_opt });
  } else {
    // network_mode none/host/service: no project resolver of our own
    resolv = i.netns.kind === 'host' ? hostResolvConf() : '';
  }
  return { hosts, hostname: hostname + '\n', resolvConf: resolv };
}

function hostResolvConf(): string {
  try {
    return readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return '';
  }
}

/** The service's healthcheck, else the image's; undefined when none or disabled. */
export function healthcheck(s: Service, image: ImageRecord): HealthcheckConfig | undefined {
  const h = s.healthcheck;
  const ih = image.config?.Healthcheck;
  if (h?.disable) return undefined;
  const test = h?.test ?? ih?.Test;
  if (!test || test.length === 0 || test[0] === 'NONE') return undefined;
  const ns = (v: number | undefined) => (v ? Math.round(v / 1e6) : undefined);
  const norm = test[0] === 'CMD' || test[0] === 'CMD-SHELL' ? test : ['CMD-SHELL', test.join(' ')];
  return {
    test: norm,
    interval: h?.interval ?? ns(ih?.Interval) ?? 30_000,
    timeout: h?.timeout ?? ns(ih?.Timeout) ?? 30_000,
    retries: h?.retries ?? ih?.Retries ?? 3,
    startPeriod: h?.start_period ?? ns(ih?.StartPeriod) ?? 0,
    startInterval: h?.start_interval ?? ns(ih?.StartInterval),
  };
}
