/** What `ps`, `port` and `top` show about a project's containers. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { layout } from '../common/layout.js';
import type { PublishedPort } from '../network/index.js';
import type { ContainerRecord } from '../state/index.js';
import { bundleFiles } from '../supervisor/paths.js';
import type { ContainerStatus } from '../supervisor/types.js';
import type { ProjectRuntime } from './runtime.js';

export function publishedPorts(rt: ProjectRuntime, rec: ContainerRecord): PublishedPort[] {
  try {
    return JSON.parse(readFileSync(bundleFiles(rec.bundleDir ?? rt.bundleDir(rec.name)).ports, 'utf8')) as PublishedPort[];
  } catch {
    return [];
  }
}

/**
 * One container as `docker compose ps --format json` (Compose >= 2.21, the docker CLI's
 * container formatter) prints it: these keys, in this (Go's sorted) order, with its types:
 * strings for Labels ("k=v,..."), LocalVolumes ("1"), Mounts, Names and Networks (comma-joined),
 * Publishers null when empty. ID, Command and Mounts are truncated unless --no-trunc, as there.
 * OOMKilled, Pid and RestartCount are tscompose's additions.
 */
export interface ContainerSummary {
  Command: string;
  CreatedAt: string;
  ExitCode: number;
  Health: string;
  ID: string;
  Image: string;
  Labels: string;
  LocalVolumes: string;
  Mounts: string;
  Name: string;
  Names: string;
  Networks: string;
  OOMKilled: boolean;
  Pid: number;
  Ports: string;
  Project: string;
  Publishers: Array<{ URL: string; TargetPort: number; PublishedPort: number; Protocol: string }> | null;
  RestartCount: number;
  RunningFor: string;
  Service: string;
  Size: string;
  State: string;
  Status: string;
}

export const SUMMARY_FIELDS: readonly string[] = [
  'Command',
  'CreatedAt',
  'ExitCode',
  'Health',
  'ID',
  'Image',
  'Labels',
  'LocalVolumes',
  'Mounts',
  'Name',
  'Names',
  'Networks',
  'OOMKilled',
  'Pid',
  'Ports',
  'Project',
  'Publishers',
  'RestartCount',
  'RunningFor',
  'Service',
  'Size',
  'State',
  'Status',
];

/** The container's 64-hex id: recorded at creation; derived from name + created for older records. */
export function containerPublicId(rec: ContainerRecord): string {
  return rec.publicId ?? createHash('sha256').update(`${rec.name}\0${rec.created}`).digest('hex');
}

/** The docker CLI's Ellipsis: at most `max` characters, the last one "…" when cut. */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : chars.slice(0, max - 1).join('') + '…';
}

/** Go's time.Time.String() of a UTC time: "2024-01-02 15:04:05 +0000 UTC". */
export function goTimeString(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' +0000 UTC');
}

/** go-units' HumanDuration, which Docker's Status and RunningFor use. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(Math.max(0, ms) / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}

export function statusText(st: ContainerStatus | undefined, now = Date.now()): string {
  if (!st) return 'Created';
  switch (st.state) {
    case 'paused':
      return `Up ${st.startedAt ? humanDuration(now - Date.parse(st.startedAt)) + ' ' : ''}(Paused)`;
    case 'running': {
      const up = st.startedAt ? humanDuration(now - Date.parse(st.startedAt)) : '';
      const health = st.health ? ` (${st.health.status === 'starting' ? 'health: starting' : st.health.status})` : '';
      return `Up ${up}${health}`;
    }
    case 'exited': {
      const ago = st.finishedAt ? ` ${humanDuration(now - Date.parse(st.finishedAt))} ago` : '';
      return `Exited (${st.exitCode ?? 'unknown'})${ago}`;
    }
    case 'restarting':
      return `Restarting (${st.exitCode ?? 0}) ${st.finishedAt ? humanDuration(now - Date.parse(st.finishedAt)) + ' ago' : ''}`.trim();
    case 'dead':
      return st.error ? `Dead: ${st.error.message}` : 'Dead';
    default:
      return 'Created';
  }
}

/** The `ps` row of a container (`trunc`: the short forms Compose prints unless --no-trunc). */
export function summarize(rt: ProjectRuntime, rec: ContainerRecord, st: ContainerStatus | undefined, trunc = true, now = Date.now()): ContainerSummary {
  let command = '';
  let labels: Record<string, string> = {};
  const mounts: string[] = [];
  let localVolumes = 0;
  try {
    const run = rt.runConfig(rec);
    command = run.spec.process.args.join(' ');
    labels = run.labels ?? {};
    const volumesDir = layout.volumes(rt.root) + path.sep;
    for (const m of run.spec.mounts) {
      if (m.type !== 'bind') continue;
      // a volume is bound from <root>/volumes/<name>/_data: Docker names it by the volume
      if (m.source.startsWith(volumesDir) && path.basename(m.source) === '_data') {
        localVolumes++;
        mounts.push(path.basename(path.dirname(m.source)));
      } else mounts.push(m.source);
    }
  } catch {
    /* no run config: a container whose creation was cut short */
  }
  const state = st?.state ?? 'created';
  const ports = st?.state === 'running' ? publishedPorts(rt, rec).sort((a, b) => a.containerPort - b.containerPort) : [];
  const publishers = ports.map((p) => ({ URL: p.hostIp, TargetPort: p.containerPort, PublishedPort: p.hostPort, Protocol: p.proto }));
  const id = containerPublicId(rec);
  const created = Date.parse(rec.created);
  const networks = Object.keys(rec.addresses ?? {}).map((k) => rt.state.networks[k]?.name ?? rt.project.networks?.[k]?.name ?? k);
  return {
    Command: JSON.stringify(trunc ? ellipsis(command, 20) : command),
    CreatedAt: goTimeString(created),
    ExitCode: state === 'exited' || state === 'dead' ? (st?.exitCode ?? 0) : 0,
    Health: state === 'running' && st?.health ? st.health.status : '',
    ID: trunc ? id.slice(0, 12) : id,
    Image: rec.image,
    Labels: Object.entries(labels)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
    LocalVolumes: String(localVolumes),
    Mounts: mounts.map((m) => (trunc ? ellipsis(m, 15) : m)).join(','),
    Name: rec.name,
    Names: rec.name,
    Networks: networks.join(','),
    OOMKilled: st?.oomKilled ?? false,
    Pid: st?.state === 'running' ? (st.pid ?? 0) : 0,
    Ports: portsText(publishers),
    Project: rt.name,
    Publishers: publishers.length ? publishers : null,
    RestartCount: st?.restartCount ?? 0,
    RunningFor: `${humanDuration(now - created)} ago`,
    Service: rec.service,
    Size: '0B',
    State: state,
    Status: statusText(st, now),
  };
}

export function portsText(p: ContainerSummary['Publishers']): string {
  return (p ?? []).map((x) => `${x.URL.includes(':') ? `[${x.URL}]` : x.URL}:${x.PublishedPort}->${x.TargetPort}/${x.Protocol}`).join(', ');
}
