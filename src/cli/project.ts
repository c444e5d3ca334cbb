import type { Command } from 'commander';

import { loadProject, type LoadOptions, type Project } from '../spec/index.js';
import type { GlobalOptions } from './context.js';

/** Turns the global flags, the environment and the current directory into LoadOptions. */
export function loadOptionsFrom(
  global: GlobalOptions,
  extra: { services?: string[]; interpolate?: boolean } = {},
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
  extra: { services?: string[]; interpolate?: boolean } = {},
  onWarning: (w: string) => void = (w) => process.stderr.write(`warning: ${w}\n`),
): Promise<Project> {
  const project = await loadProject(loadOptionsFrom(globalOptionsOf(cmd), extra));
  for (const w of project.warnings) onWarning(w);
  return project;
}
