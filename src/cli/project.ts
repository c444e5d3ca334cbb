import type { Command } from 'commander';
import { TscError } from '../common/errors.js';
import { stateRoot } from '../common/paths.js';
import { loadProject, type LoadOptions, type Project } from '../compose/index.js';
import { recordedProject } from '../apply/recorded-project.js';
import { validateProjectName } from '../state/index.js';
import type { GlobalOptions } from './context.js';

/** Turns the global flags, the environment and the current directory into LoadOptions. */
export function loadOptionsFrom(
  global: GlobalOptions,
  extra: { services?: string[]; interpolate?: boolean; consistency?: boolean; resolvePaths?: boolean } = {},
  env: NodeJS.ProcessEnv = process.env,
  cwd: string = process.cwd(),
): LoadOptions {
  return {
    workingDir: cwd,
    files: global.file,
    projectName: global.projectName,
    projectDirectory: global.projectDirectory,
    envFiles: global.envFile,
    profiles: global.profile,
    env: { ...env },
    services: extra.services,
    interpolate: extra.interpolate,
    consistency: extra.consistency,
    resolvePaths: extra.resolvePaths,
  };
}

/** The global options of the program a subcommand belongs to. */
export function globalOptionsOf(cmd: Command): GlobalOptions {
  let root: Command = cmd;
  while (root.parent) root = root.parent;
  return root.opts<GlobalOptions>();
}

/**
 * Loads the project for a command. Warnings (unsupported keys, unset variables) go to
 * `onWarning` (the CLI prints them on stderr). With `byName`, a verb that Compose lets act on a
 * project by name alone gets the project from its record when no compose file is found and
 * none was named (see projectName below).
 */
export async function loadCliProject(
  cmd: Command,
  extra: { services?: string[]; interpolate?: boolean; consistency?: boolean; resolvePaths?: boolean; byName?: boolean } = {},
  onWarning: (w: string) => void = (w) => process.stderr.write(`warning: ${w}\n`),
): Promise<Project> {
  const global = globalOptionsOf(cmd);
  const opts = loadOptionsFrom(global, extra);
  let project: Project;
  try {
    project = await loadProject(opts);
  } catch (err) {
    const name = extra.byName ? nameWithoutFile(err, global, opts) : undefined;
    if (!name) throw err;
    return projectFromRecord(stateRoot(), name);
  }
  for (const w of project.warnings) onWarning(w);
  return project;
}

const fromRecords = new WeakSet<Project>();

/** The project as its record describes it (src/apply/recorded-project.ts). */
export async function projectFromRecord(root: string, name: string): Promise<Project> {
  const project = await recordedProject(root, name);
  fromRecords.add(project);
  return project;
}

/** Whether the project was made from its record (no compose file was found). */
export function fromRecord(project: Project): boolean {
  return fromRecords.has(project);
}

/**
 * `tscompose -p NAME down` from any directory, as Compose's projectOrName: when no compose
 * file is found and none is named (-f, COMPOSE_FILE), the project name given with -p (or
 * COMPOSE_PROJECT_NAME). Compose then works from the project's containers, tscompose from its
 * record; a project without one is an empty project (each verb does nothing, as Compose's).
 */
function nameWithoutFile(err: unknown, global: GlobalOptions, opts: LoadOptions): string | undefined {
  if (!(err instanceof TscError) || err.code !== 'SPEC_NOT_FOUND' || global.file?.length || opts.env.COMPOSE_FILE) return undefined;
  const name = global.projectName ?? opts.env.COMPOSE_PROJECT_NAME;
  if (!name) return undefined;
  validateProjectName(name);
  return name;
}
