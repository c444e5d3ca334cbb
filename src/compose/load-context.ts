/** What the loading stages share: the per-load context and the model of merged, canonical fragments. */
import type { Obj, Path } from './canonical-values.js';
import type { InterpolationContext } from './interpolate.js';
import { nearest, type SourceMap } from './position.js';
import type { NodeBudget } from './limits.js';

export type { Obj, Path };

/** A service fragment plus where it was declared (for error positions). */
export interface ServiceFragment {
  data: Obj;
  file: string;
  positions: SourceMap;
}

/** The files' contents, canonical and merged, before defaults: what the later stages start from. */
export interface LoadedModel {
  name?: string;
  services: Record<string, ServiceFragment>;
  networks: Obj;
  volumes: Obj;
  secrets: Obj;
  configs: Obj;
  models: Obj;
  extensions: Obj;
  files: string[];
}

export interface LoadContext {
  interp: InterpolationContext;
  raw: boolean;
  /** consistency checks on (see LoadOptions.consistency) */
  strict: boolean;
  /** host paths kept as written (LoadOptions.resolvePaths false) */
  keepPaths: boolean;
  warnings: string[];
  lookupValue: (name: string) => string | undefined;
  /** parsed+interpolated+validated files by absolute path */
  cache: Map<string, { data: Obj; positions: SourceMap }>;
  /** YAML nodes parsed so far by this load, shared with included sub-projects (LIMITS.nodes) */
  budget: NodeBudget;
  /** set when any file read has a top-level key (Compose rejects a project of empty files) */
  nonEmpty?: boolean;
}

/** "did you mean" for a misspelt name, else the known names. */
export function hintFor(name: string, candidates: string[]): string | undefined {
  const n = nearest(name, candidates);
  return n ? `did you mean ${JSON.stringify(n)}?` : candidates.length ? `known services: ${candidates.sort().join(', ')}` : undefined;
}

/** `file:line:col: ` of a path in a service's declaring file, or nothing when unknown. */
export function posText(frag: ServiceFragment, p: Path): string {
  const pos = frag.positions.find(p);
  return pos ? `${pos.file}:${pos.line}:${pos.col}: ` : '';
}
