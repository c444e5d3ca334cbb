/**
 * The loading pipeline, in Compose's order: loadProject below is the list of stages, each a
 * function in a module of its own (README.md lists them with the same numbers). Later code only
 * sees the `Project`.
 */
import path from 'node:path';

import { TscError } from '../common/errors.js';
import { checkDependencies, checkReferences, checkSize } from './checks.js';
import { discoverFiles } from './discover.js';
import { readEnvironment } from './environment.js';
import { finalizeServices } from './finalize-service.js';
import { addAllImpliedDependencies } from './implied.js';
import type { EnvironmentEntry } from './interpolate.js';
import type { LoadContext, LoadedModel, Path } from './load-context.js';
import { loadFiles } from './load-file.js';
import { formatPath } from './position.js';
import { dropDisabledDependencies, selectServices } from './profiles.js';
import { projectName } from './project-name.js';
import { addDefaultNetwork, topLevelResources } from './resources.js';
import { ProjectSchema, type Network, type Project, type Service, type Volume } from './schema.js';
import { resolveEnvFiles } from './service-env.js';
import { supportWarnings } from './warnings.js';

export interface LoadOptions {
  /** directory the command runs in (where discovery starts, what relative -f paths are relative to) */
  workingDir: string;
  /** -f files (or COMPOSE_FILE); absent = discovery */
  files?: string[];
  /** -p */
  projectName?: string;
  /** --project-directory (default: the first compose file's directory) */
  projectDirectory?: string;
  /** --env-file (replaces the project's .env) */
  envFiles?: string[];
  /** --profile (absent = COMPOSE_PROFILES) */
  profiles?: string[];
  /** the shell environment */
  env: Record<string, string | undefined>;
  /** services named on the command line: enabled whatever their profiles, with their dependencies */
  services?: string[];
  /**
   * false = leave `${VAR}` expressions as written (`config --no-interpolate`). The result is
   * for display only: typed fields may then hold the expression text instead of a number.
   */
  interpolate?: boolean;
  /**
   * false = skip the consistency checks (`config --no-consistency`): a service without image,
   * undefined depends_on targets, networks and volumes, platform/build.platforms, network_mode
   * with networks, scale/replicas. For display only.
   */
  consistency?: boolean;
  /** false = keep relative host paths as written (`config --no-path-resolution`). For display only. */
  resolvePaths?: boolean;
}

/** Loads, validates and normalizes a Compose project. Throws TscError (SPEC_*) on user errors. */
export async function loadProject(opts: LoadOptions): Promise<Project> {
  const warnings: string[] = [];
  const workingDir = path.resolve(opts.workingDir);
  const explicitDir = opts.projectDirectory ? path.resolve(workingDir, opts.projectDirectory) : undefined;
  const startDir = explicitDir ?? workingDir;

  // 1. environment of the start directory (COMPOSE_FILE may come from its .env)
  let env = readEnvironment(opts.env, opts.envFiles, workingDir, startDir);
  // 2. discover the files; the project directory's .env is the one that counts
  const { files, projectDir } = discoverFiles(opts, workingDir, startDir, explicitDir, env.lookupValue, warnings);
  if (projectDir !== startDir) env = readEnvironment(opts.env, opts.envFiles, workingDir, projectDir);

  // 3-4. per file: parse, interpolate, validate, canonicalize, include, extends; then merge
  const report = new Map<string, EnvironmentEntry>();
  const ld: LoadContext = {
    interp: { lookup: env.lookup, report, warnings },
    raw: opts.interpolate === false,
    strict: opts.consistency !== false,
    keepPaths: opts.resolvePaths === false,
    warnings,
    lookupValue: env.lookupValue,
    cache: new Map(),
    budget: { nodes: 0 },
  };
  const model = loadFiles(files, projectDir, ld);
  // 5. project name
  const name = projectName(opts.projectName, env.lookupValue, model.name, projectDir);

  // 6. defaults, 7. implied dependencies, 8. dependency checks
  const all = finalizeServices(model, ld);
  checkSize(all, model.files);
  const implied = addAllImpliedDependencies(model, all);
  checkDependencies(all, implied, model, ld);

  // 9. profiles, 10. env files of the selected services, 11. dependencies on disabled services
  const { active, enabled } = selectServices(all, opts.profiles, opts.services, env.lookupValue);
  resolveEnvFiles(all, model, enabled, opts.services, env.lookupValue, workingDir);
  dropDisabledDependencies(all, enabled, warnings);

  // 12. networks and volumes (with the default network), 13. reference checks, 14. warnings
  const { networks, volumes } = topLevelResources(model, name);
  addDefaultNetwork(all, enabled, networks, name);
  checkReferences(all, enabled, networks, volumes, model, ld);
  supportWarnings(all, enabled, networks, volumes, model, warnings);

  // 15. the project, checked against its schema
  return assembleProject({ name, projectDir, model, all, enabled, networks, volumes, report, active, warnings }, ld);
}

/** Stage "assemble": the `Project`, checked against ProjectSchema (a mismatch is an INTERNAL bug). */
function assembleProject(
  p: {
    name: string;
    projectDir: string;
    model: LoadedModel;
    all: Record<string, Service>;
    enabled: Set<string>;
    networks: Record<string, Network>;
    volumes: Record<string, Volume>;
    report: Map<string, EnvironmentEntry>;
    active: string[];
    warnings: string[];
  },
  ld: LoadContext,
): Project {
  const { all, enabled, model } = p;
  const services: Record<string, Service> = {};
  const disabledServices: Record<string, Service> = {};
  for (const n of Object.keys(all).sort()) (enabled.has(n) ? services : disabledServices)[n] = all[n];
  const allProfiles = [...new Set(Object.values(all).flatMap((s) => s.profiles))].sort();

  const project: Project = {
    name: p.name,
    workingDir: p.projectDir,
    composeFiles: model.files,
    services,
    disabledServices,
    networks: sortKeys(p.networks),
    volumes: sortKeys(p.volumes),
    secrets: model.secrets,
    configs: model.configs,
    environment: [...p.report.values()].sort((a, b) => a.name.localeCompare(b.name)),
    profiles: p.active,
    allProfiles,
    extensions: model.extensions,
    warnings: [...new Set(p.warnings)],
  };
  const check = ProjectSchema.safeParse(project);
  if (!check.success && !ld.raw && ld.strict) {
    const i = check.error.issues[0];
    throw new TscError('INTERNAL', `the normalized model does not match its schema at ${formatPath(i.path as Path)}: ${i.message}`);
  }
  return project;
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}
