/**
 * Stage "environment": the variables interpolation sees. The shell always wins; `--env-file`
 * files replace the project's `.env`.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';

import { readEnvFile } from './dotenv.js';
import type { ResolvedVariable } from './interpolate.js';

export interface Environment {
  lookup: (name: string) => ResolvedVariable | undefined;
  lookupValue: (name: string) => string | undefined;
}

/**
 * Reads the environment for a project in `dir`: the shell, then the `--env-file` files (relative
 * to `workingDir`) or else `dir/.env`.
 */
export function readEnvironment(shell: Record<string, string | undefined>, envFiles: string[] | undefined, workingDir: string, dir: string): Environment {
  const dotenv: Record<string, { value: string; source: 'env-file' | 'dotenv' }> = {};
  const shellValue = (n: string): string | undefined => shell[n];
  if (envFiles && envFiles.length > 0) {
    for (const f of envFiles) {
      const abs = path.resolve(workingDir, f);
      const vars = readEnvFile(abs, shellValue);
      for (const [k, v] of Object.entries(vars)) dotenv[k] = { value: v, source: 'env-file' };
    }
  } else {
    const f = path.join(dir, '.env');
    // a .env that is a directory is no env file (as in Compose); any other kind is read, or refused, by readEnvFile
    if (existsSync(f) && !statSync(f).isDirectory()) {
      const vars = readEnvFile(f, shellValue);
      for (const [k, v] of Object.entries(vars)) dotenv[k] = { value: v, source: 'dotenv' };
    }
  }
  const lookup = (n: string): ResolvedVariable | undefined => {
    const s = shell[n];
    if (s !== undefined) return { value: s, source: 'shell' };
    const d = dotenv[n];
    return d ? { value: d.value, source: d.source } : undefined;
  };
  return { lookup, lookupValue: (n) => lookup(n)?.value };
}
