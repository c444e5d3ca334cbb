/**
 * A service's final environment: its env_file contents, then its `environment` on top. As in
 * compose-go (WithServicesEnvironmentResolved, run after profiles and service selection), only
 * the services a command works on need their env files: for the others a missing or unreadable
 * file is skipped, not an error.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

import { specError } from './canonical-values.js';
import { readEnvFile, readRawEnvFile } from './dotenv.js';
import type { LoadedModel } from './load-context.js';
import type { SourceMap } from './position.js';
import { withDeps } from './profiles.js';
import type { Service } from './schema.js';

interface EnvFileContext {
  file: string;
  positions: SourceMap;
  lookupValue: (name: string) => string | undefined;
  /** what a relative env_file path (kept as written by --no-path-resolution) is read against: the working directory, as compose-go does */
  baseDir: string;
}

/**
 * Sets `s.environment` to the env files' variables overlaid by `environment` (already resolved).
 * `required`: the service is selected, so a missing required file or a bad one is an error.
 */
function applyEnvFiles(s: Service, ctx: EnvFileContext, required: boolean): void {
  if (!s.env_file?.length) return;
  const at = ['services', s.name, 'env_file'];
  const fromFiles: Record<string, string> = {};
  for (const written of s.env_file) {
    const ef = { ...written, path: path.resolve(ctx.baseDir, written.path) };
    if (!existsSync(ef.path)) {
      if (ef.required && required) throw specError(ctx, at, `env file ${ef.path} not found`, 'create it, or mark it optional with `required: false`');
      continue;
    }
    try {
      if (ef.format === undefined) Object.assign(fromFiles, readEnvFile(ef.path, ctx.lookupValue));
      else if (ef.format === 'raw') Object.assign(fromFiles, readRawEnvFile(ef.path));
      else
        throw specError(
          ctx,
          at,
          `unknown env_file format ${JSON.stringify(ef.format)} for ${ef.path}`,
          'leave format out (Compose rules) or use format: raw (KEY=VALUE lines taken literally)',
        );
    } catch (e) {
      if (required) throw e;
    }
  }
  s.environment = { ...fromFiles, ...s.environment };
}

/**
 * Stage "env files": every service's env files under its `environment`. They are required for the
 * services the command works on (named ones and their dependencies, else every enabled one), as
 * compose-go resolves them after selection.
 */
export function resolveEnvFiles(
  all: Record<string, Service>,
  model: LoadedModel,
  enabled: Set<string>,
  named: string[] | undefined,
  lookupValue: (name: string) => string | undefined,
  workingDir: string,
): void {
  const selected = named?.length ? withDeps(named, all) : enabled;
  for (const [n, s] of Object.entries(all)) applyEnvFiles(s, { ...model.services[n], lookupValue, baseDir: workingDir }, enabled.has(n) && selected.has(n));
}
