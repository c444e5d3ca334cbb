/**
 * The registry of published ports, <root>/network/ports.json: which project and service
 * holds each host port, so a conflict can name the holder when it is one of ours.
 */
import path from 'node:path';
import { layout } from '../common/layout.js';
import { readJson, updateRegistry } from './registry.js';
import { isPidAlive } from '../common/process.js';

export type Proto = 'tcp' | 'udp';

export interface PortEntry {
  proto: Proto;
  hostIp: string;
  hostPort: number;
  project: string;
  service: string;
  /** container name and port the host port leads to (for `port` and `ps`) */
  container?: string;
  containerPort?: number;
  /** supervisor pid that bound it: an entry whose process is gone is stale */
  pid: number;
}

interface PortState {
  ports: PortEntry[];
}

const empty = (): PortState => ({ ports: [] });

export function portsFile(root: string): string {
  return path.join(layout.network(root), 'ports.json');
}

function clash(a: { proto: Proto; hostIp: string; hostPort: number }, b: PortEntry): boolean {
  return a.proto === b.proto && a.hostPort === b.hostPort && (a.hostIp === b.hostIp || a.hostIp === '0.0.0.0' || b.hostIp === '0.0.0.0');
}

/** The live entry of another holder that would clash with `p`, if any. */
export function findPortHolder(root: string, p: { proto: Proto; hostIp: string; hostPort: number }): PortEntry | undefined {
  return readJson(portsFile(root), empty).ports.find((e) => clash(p, e) && isPidAlive(e.pid));
}

export function recordPorts(root: string, entries: PortEntry[]): void {
  updateRegistry(portsFile(root), empty, (s) => {
    s.ports = s.ports.filter((e) => isPidAlive(e.pid) && !entries.some((n) => clash(n, e) && n.project === e.project));
    s.ports.push(...entries);
  });
}

export function releasePorts(root: string, entries: Array<{ proto: Proto; hostIp: string; hostPort: number; project: string }>): void {
  updateRegistry(portsFile(root), empty, (s) => {
    s.ports = s.ports.filter(
      (e) => isPidAlive(e.pid) && !entries.some((n) => n.project === e.project && n.proto === e.proto && n.hostPort === e.hostPort && n.hostIp === e.hostIp),
    );
  });
}

export function releaseProjectPorts(root: string, project: string): number {
  return updateRegistry(portsFile(root), empty, (s) => {
    const before = s.ports.length;
    s.ports = s.ports.filter((e) => e.project !== project && isPidAlive(e.pid));
    return before - s.ports.length;
  });
}

export function listPorts(root: string, project?: string): PortEntry[] {
  return readJson(portsFile(root), empty).ports.filter((e) => project === undefined || e.project === project);
}
