/** What `ps`, `port` and `top` show about a project's containers. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { PublishedPort } from '../network/index.js';
import type { ContainerRecord } from '../state/index.js';
import type { ContainerStatus } from '../supervisor/types.js';
import type { ProjectRuntime } from './runtime.js';

/** The file the supervisor's port hook writes with the ports it bound for a container. */
export const PORTS_FILE = 'ports.json';

export function publishedPorts(rt: ProjectRuntime, rec: ContainerRecord): PublishedPort[] {
  try {
    return JSON.parse(readFileSync(path.join(rec.bundleDir ?? rt.bundleDir(rec.name), PORTS_FILE), 'utf8')) as PublishedPort[];
  } catch {
    return [];
  }
}

export interface ContainerSummary {
  ID: string;
  Name: string;
  Names: string[];
  Image: string;
  Command: string;
  Project: string;
  Service: string;
  Created: number;
  State: string;
  Status: string;
  Health: string;
  ExitCode: number;
  Publishers: Array<{ URL: string; TargetPort: number; PublishedPort: number; Protocol: string }>;
  Labels: Record<string, string>;
  /** tscompose extras */
  OOMKilled: boolean;
  Pid: number;
  RestartCount: number;
  Number: number;
  OneOff: boolean;
  Networks: Record<string, string>;
}

export function humanDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 1) return 'Less than a second';
  if (s < 60) return `${s} second${s === 1 ? '' : 's'}`;
  const m = Math.round(s / 60);
  if (m < 60) return m === 1 ? 'About a minute' : `${m} minutes`;
  const h = Math.round(m / 60);
  if (h < 48) return h === 1 ? 'About an hour' : `${h} hours`;
  const d = Math.round(h / 24);
  return `${d} days`;
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

export function summarize(rt: ProjectRuntime, rec: ContainerRecord, st: ContainerStatus | undefined): ContainerSummary {
  let command = '';
  let labels: Record<string, string> = {};
  try {
    const run = rt.runConfig(rec);
    command = run.spec.process.args.join(' ');
    labels = run.labels ?? {};
  } catch {
    /* no run config: a container whose creation was cut short */
  }
  const ports = st?.state === 'running' ? publishedPorts(rt, rec) : [];
  return {
    ID: rec.id,
    Name: rec.name,
    Names: [rec.name],
    Image: rec.image,
    Command: command,
    Project: rt.name,
    Service: rec.service,
    Created: Math.floor(Date.parse(rec.created) / 1000),
    State: st?.state ?? 'created',
    Status: statusText(st),
    Health: st?.state === 'running' && st.health ? st.health.status : '',
    ExitCode: st?.exitCode ?? 0,
    Publishers: ports.map((p) => ({ URL: p.hostIp, TargetPort: p.containerPort, PublishedPort: p.hostPort, Protocol: p.proto })),
    Labels: labels,
    OOMKilled: st?.oomKilled ?? false,
    Pid: st?.state === 'running' ? (st.pid ?? 0) : 0,
    RestartCount: st?.restartCount ?? 0,
    Number: rec.number,
    OneOff: rec.oneOff,
    Networks: Object.fromEntries(Object.entries(rec.addresses ?? {}).map(([k, a]) => [k, a.ipv4 ?? ''])),
  };
}

export function portsText(p: ContainerSummary['Publishers']): string {
  return p.map((x) => `${x.URL}:${x.PublishedPort}->${x.TargetPort}/${x.Protocol}`).join(', ');
}
