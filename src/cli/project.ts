import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import path from 'node:path';

import { TscError } from '../common/errors.js';
import { stateRoot } from '../common/paths.js';
import { loadProject, type LoadOptions, type Project } from '../compose/index.js';
import { readProjectState } from '../state/index.js';
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
 * `onWarning` (the CLI prints them on stderr).
 */
export async function loadCliProject(
  cmd: Command,
  extra: { services?: string[]; interpolate?: boolean; consistency?: boolean; resolvePaths?: boolean } = {},
  onWarning: (w: string) => void = (w) => process.stderr.write(`warning: ${w}\n`),
): Promise<Project> {
  const global = globalOptionsOf(cmd);
  const opts = loadOptionsFrom(global, extra);
  let project: Project;
  try {
    project = await loadProject(opts);
  } catch (err) {
    const recorded = await recordedFiles(err, global, opts);
    if (!recorded) throw err;
    project = await loadProject({ ...opts, ...recorded });
  }
  for (const w of project.warnings) onWarning(w);
  return project;
}

/**
 * `tscompose -p NAME down` from anywhere, as with Compose: when no compose file is found and
 * none was named, a project name given with -p (or COMPOSE_PROJECT_NAME) whose record lists
 * the files it was brought up from loads those files, from that project's directory.
 */
async function recordedFiles(err: unknown, global: GlobalOptions, opts: LoadOptions): Promise<Partial<LoadOptions> | undefined> {
  if (!(err instanceof TscError) || err.code !== 'SPEC_NOT_FOUND' || global.file?.length || opts.env.COMPOSE_FILE) return undefined;
  const name = global.projectName ?? opts.env.COMPOSE_PROJECT_NAME;
  if (!name || !/^[a-z0-9][a-z0-9_-]*$/.test(name)) return undefined;
  let state;
  try {
    state = await readProjectState(stateRoot(), name);
  } catch {
    return undefined;
  }
  const files = state?.configFiles ?? [];
  if (!state || files.length === 0) return undefined;
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length) {
    throw new TscError(
      'SPEC_NOT_FOUND',
      `${err.message}; project ${name} was brought up from ${files.join(', ')}, but ${missing.join(', ')} no longer exists`,
      {
        hint: 'name the compose files with -f, or run tscompose in the project directory',
      },
    );
  }
  return { files, projectDirectory: global.projectDirectory ?? state.workingDir ?? path.dirname(files[0]!) };
}
