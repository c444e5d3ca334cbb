/**
 * A journal of host links a project is about to create, <root>/network/links.json. The name
 * is written before the kernel is asked to create the link, so cleanup after a crash at any
 * point (even between creating a link and labelling it with its alias) still finds it.
 */
import path from 'node:path';
import { layout } from '../common/layout.js';
import { readJson, updateRegistry } from './registry.js';

interface Journal {
  /** link name → project */
  links: Record<string, string>;
}

const empty = (): Journal => ({ links: {} });

export function journalFile(root: string): string {
  return path.join(layout.network(root), 'links.json');
}

export function journalAdd(root: string, project: string, name: string): void {
  updateRegistry(journalFile(root), empty, (j) => {
    j.links[name] = project;
  });
}

export function journalRemove(root: string, names: string[]): void {
  if (!names.length) return;
  updateRegistry(journalFile(root), empty, (j) => {
    for (const n of names) delete j.links[n];
  });
}

export function journalOf(root: string, project: string): string[] {
  return Object.entries(readJson(journalFile(root), empty).links)
    .filter(([, p]) => p === project)
    .map(([n]) => n);
}
