/**
 * Crash cleanup: a project's host links are found by their alias (or the link journal) and
 * removed with its netns files, IP allocations, published ports and firewall rules.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { layout } from '../common/layout.js';
import { releaseProject } from './ipam.js';
import { projectAliasPrefix } from './names.js';
import { firewallSweep } from './firewall.js';
import { deleteNetns } from './netns.js';
import { journalOf, journalRemove } from './link-journal.js';
import { releaseProjectPorts } from './port-registry.js';
import { type LinkInfo, Rtnl } from './rtnl.js';

/** Every host link (bridges and veths) that belongs to a project, found by alias. */
export function listProjectLinks(root: string, project: string): LinkInfo[] {
  const rt = new Rtnl();
  try {
    const prefix = projectAliasPrefix(root, project);
    const journal = new Set(journalOf(root, project));
    return rt.listLinks().filter((l) => l.alias.startsWith(prefix) || journal.has(l.name));
  } finally {
    rt.close();
  }
}

export interface CleanupReport {
  links: string[];
  netns: string[];
  networks: number;
  ports: number;
}

/**
 * Removes every link, netns file, IP allocation and published-port entry of a project,
 * whatever state a crash left it in. Idempotent. External bridges are never touched
 * (they carry no alias of ours).
 */
export function cleanupProject(root: string, project: string): CleanupReport {
  const report: CleanupReport = { links: [], netns: [], networks: 0, ports: 0 };
  const rt = new Rtnl();
  try {
    const prefix = projectAliasPrefix(root, project);
    const journal = new Set(journalOf(root, project));
    const mine = rt.listLinks().filter((l) => l.alias.startsWith(prefix) || journal.has(l.name));
    // veths first (deleting one end removes its peer), then bridges
    mine.sort((a, b) => (a.kind === 'bridge' ? 1 : 0) - (b.kind === 'bridge' ? 1 : 0));
    for (const l of mine) if (rt.deleteLinkByName(l.name)) report.links.push(l.name);
    journalRemove(root, [...journal]);
  } finally {
    rt.close();
  }
  // the rules of bridges just deleted (or deleted by a crashed run) go with them
  firewallSweep();
  const dir = layout.netnsDir(root, project);
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    files = [];
  }
  for (const f of files) {
    deleteNetns(path.join(dir, f));
    report.netns.push(f);
  }
  report.networks = releaseProject(root, project);
  report.ports = releaseProjectPorts(root, project);
  return report;
}
