/**
 * Stage "discover": which compose files make the project, and its directory. `-f` files in
 * order, else `COMPOSE_FILE`, else the first of DISCOVERY_NAMES in the directory or a parent,
 * with its override file beside it.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

import { TscError } from '../common/errors.js';

const DISCOVERY_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];
const OVERRIDE_NAMES = ['compose.override.yaml', 'compose.override.yml', 'docker-compose.override.yaml', 'docker-compose.override.yml'];

function findComposeFiles(workingDir: string, warnings: string[]): string[] {
  let dir = path.resolve(workingDir);
  for (;;) {
    const found = DISCOVERY_NAMES.filter((n) => existsSync(path.join(dir, n)));
    if (found.length > 0) {
      if (found.length > 1)
        warnings.push(`Found multiple config files with supported names: ${found.map((f) => path.join(dir, f)).join(', ')}; using ${path.join(dir, found[0])}`);
      const files = [path.join(dir, found[0])];
      const override = OVERRIDE_NAMES.find((n) => existsSync(path.join(dir, n)));
      if (override) files.push(path.join(dir, override));
      return files;
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new TscError(
    'SPEC_NOT_FOUND',
    `no configuration file provided: none of ${DISCOVERY_NAMES.join(', ')} was found in ${workingDir} or its parent directories`,
    {
      hint: 'run tscompose in the directory of your compose.yaml, or name the file with -f',
    },
  );
}

/**
 * The compose files (absolute, each existing) and the project directory. `startDir` is
 * `--project-directory` or the working directory; `explicitDir` is `--project-directory` only.
 */
export function discoverFiles(
  opts: { files?: string[] },
  workingDir: string,
  startDir: string,
  explicitDir: string | undefined,
  lookupValue: (name: string) => string | undefined,
  warnings: string[],
): { files: string[]; projectDir: string } {
  let files: string[];
  if (opts.files && opts.files.length > 0) {
    files = opts.files.map((f) => path.resolve(workingDir, f));
  } else if (lookupValue('COMPOSE_FILE')) {
    // an empty COMPOSE_PATH_SEPARATOR would split the value into characters: the default then
    const sep = lookupValue('COMPOSE_PATH_SEPARATOR') || ':';
    const value = lookupValue('COMPOSE_FILE')!;
    files = value
      .split(sep)
      .filter((f) => f.trim() !== '')
      .map((f) => path.resolve(startDir, f));
    if (files.length === 0) {
      throw new TscError('SPEC_NOT_FOUND', `COMPOSE_FILE=${JSON.stringify(value)} names no compose file (separator ${JSON.stringify(sep)})`, {
        hint: 'set COMPOSE_FILE to one or more paths separated by COMPOSE_PATH_SEPARATOR (default ":"), or unset it',
      });
    }
  } else {
    files = findComposeFiles(startDir, warnings);
  }
  if (files.includes(path.resolve(workingDir, '-'))) {
    throw new TscError('SPEC_NOT_FOUND', 'reading a compose file from standard input (-f -) is not supported by tscompose yet', {
      hint: 'write the file to disk and pass its path with -f',
    });
  }
  for (const f of files) if (!existsSync(f)) throw new TscError('SPEC_NOT_FOUND', `compose file ${f} does not exist`);
  return { files, projectDir: explicitDir ?? path.dirname(files[0]) };
}
