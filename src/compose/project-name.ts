/** Stage "project name": `-p`, else COMPOSE_PROJECT_NAME, else the top-level `name:`, else the project directory's name. */
import path from 'node:path';

import { TscError } from '../common/errors.js';

/** Normalizes a project name as Compose does: lower case, only [a-z0-9_-], starting with a letter or digit. */
export function normalizeProjectName(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[^a-z0-9]+/, '');
}

function checkProjectName(nameValue: string, from: string): string {
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(nameValue)) {
    throw new TscError(
      'SPEC_INVALID',
      `invalid project name ${JSON.stringify(nameValue)} (from ${from}): it must contain only lower-case letters, digits, "-" and "_", and start with a letter or digit`,
    );
  }
  return nameValue;
}

export function projectName(
  projectNameOption: string | undefined,
  lookupValue: (name: string) => string | undefined,
  modelName: string | undefined,
  projectDir: string,
): string {
  if (projectNameOption) return checkProjectName(projectNameOption, '-p');
  if (lookupValue('COMPOSE_PROJECT_NAME')) return checkProjectName(lookupValue('COMPOSE_PROJECT_NAME')!, 'COMPOSE_PROJECT_NAME');
  if (modelName) return checkProjectName(modelName, 'the top-level name: key');
  const name = normalizeProjectName(path.basename(projectDir));
  if (!name)
    throw new TscError('SPEC_INVALID', `cannot derive a project name from the directory ${projectDir}`, {
      hint: 'set one with -p NAME or a top-level name: key',
    });
  return name;
}
