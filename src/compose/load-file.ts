/**
 * Stage "per file" (second half) and "merge": one file's services canonicalized (canonical.ts),
 * its `include` entries loaded as sub-projects and its `extends` resolved (extends.ts); then the
 * files merged in order (merge.ts).
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';

import { TscError } from '../common/errors.js';
import { canonicalService, stripTags } from './canonical.js';
import { checkNetwork } from './canonical-networks.js';
import { isObj, resolveHostPath, specError, type CanonContext } from './canonical-values.js';
import { readEnvFile } from './dotenv.js';
import { resolveExtends } from './extends.js';
import type { ResolvedVariable } from './interpolate.js';
import type { LoadContext, LoadedModel, Obj } from './load-context.js';
import { mergeModels } from './merge.js';
import { LIMITS } from './limits.js';
import { loadRawFile } from './parse-file.js';

/** Loads one file into canonical fragments (include and extends resolved). */
function loadFile(file: string, baseDir: string, ld: LoadContext, includeStack: string[]): LoadedModel {
  const { data, positions } = loadRawFile(file, ld);
  const ctx: CanonContext = { baseDir, file, positions, env: ld.lookupValue, raw: ld.raw, keepPaths: ld.keepPaths, budget: ld.budget };
  // included files are loaded from their resolved paths whatever the display mode
  const loadCtx: CanonContext = { ...ctx, keepPaths: false };
  const model: LoadedModel = { services: {}, networks: {}, volumes: {}, secrets: {}, configs: {}, models: {}, extensions: {}, files: [file] };

  // include: each entry is loaded as its own sub-project, then its resources are added.
  const includes = (data.include as unknown[] | undefined) ?? [];
  includes.forEach((entry, i) => {
    const e = typeof entry === 'string' ? { path: entry } : (stripTags(entry) as Obj);
    const paths = (Array.isArray(e.path) ? e.path : [e.path]).map((p) => resolveHostPath(String(p), loadCtx));
    const projDir = e.project_directory !== undefined ? resolveHostPath(String(e.project_directory), loadCtx) : path.dirname(paths[0]);
    if (includeStack.length > LIMITS.includeDepth) {
      throw specError(ctx, ['include', i], `include nests deeper than ${LIMITS.includeDepth} files`, 'no project needs that many levels of include');
    }
    for (const p of paths) {
      if (includeStack.includes(p)) throw specError(ctx, ['include', i], `include cycle: ${[...includeStack, p].join(' -> ')}`);
    }
    // The included files interpolate with the including project's environment first, then
    // their own env files (default: the .env of their project directory).
    const envFiles =
      e.env_file !== undefined
        ? (Array.isArray(e.env_file) ? e.env_file : [e.env_file]).map((f) => resolveHostPath(String(f), loadCtx))
        : [path.join(projDir, '.env')].filter((f) => existsSync(f) && !statSync(f).isDirectory());
    const incVars: Record<string, string> = {};
    for (const f of envFiles) Object.assign(incVars, readEnvFile(f, ld.lookupValue));
    const incLookup = (n: string): ResolvedVariable | undefined =>
      ld.interp.lookup(n) ?? (Object.prototype.hasOwnProperty.call(incVars, n) ? { value: incVars[n], source: 'env-file' } : undefined);
    const subLd: LoadContext = { ...ld, cache: new Map(), interp: { ...ld.interp, lookup: incLookup }, lookupValue: (n) => incLookup(n)?.value };
    let sub: LoadedModel | undefined;
    for (const p of paths) {
      const m = loadFile(p, projDir, subLd, [...includeStack, file, p]);
      sub = sub ? mergeModels(sub, m) : m;
    }
    if (!sub) return;
    for (const kind of ['services', 'networks', 'volumes'] as const) {
      for (const [k, v] of Object.entries(sub[kind])) {
        if (Object.hasOwn(model[kind], k) && (kind === 'services' || !sameValue(model[kind][k], v))) {
          throw specError(ctx, ['include', i], `${kind}.${k} is defined by two included files`);
        }
        (model[kind] as Obj)[k] = v;
      }
    }
    model.files.push(...sub.files);
  });

  const services = isObj(data.services) ? data.services : {};
  const canon: Record<string, Obj> = {};
  for (const [n, s] of Object.entries(services)) canon[n] = canonicalService((s ?? {}) as Obj, ctx, ['services', n]);
  const resolved = new Map<string, Obj>();
  for (const n of Object.keys(canon)) {
    const svc = resolveExtends(n, canon, file, ld, [], resolved);
    if (Object.hasOwn(model.services, n)) {
      throw specError(
        ctx,
        ['services', n],
        `service ${JSON.stringify(n)} is defined both here and in an included file`,
        "an included project's resources cannot be redefined; use extends or a separate -f override file",
      );
    }
    model.services[n] = { data: svc, file, positions };
  }
  for (const kind of ['networks', 'volumes', 'secrets', 'configs', 'models'] as const) {
    const v = data[kind];
    if (!isObj(v)) continue;
    for (const [k, written] of Object.entries(v)) {
      let cfg = written;
      if (kind === 'networks') checkNetwork(k, cfg, ctx);
      // secrets/configs from a file: the path is resolved like every host path (compose-go resolves secrets.*.file, configs.*.file)
      if ((kind === 'secrets' || kind === 'configs') && isObj(cfg) && typeof cfg.file === 'string') cfg = { ...cfg, file: resolveHostPath(cfg.file, ctx) };
      if (kind === 'networks' || kind === 'volumes') {
        if (Object.hasOwn(model[kind], k) && !sameValue(model[kind][k], cfg ?? null)) {
          throw specError(ctx, [kind, k], `${kind}.${k} is defined both here and in an included file`);
        }
      }
      (model[kind] as Obj)[k] = cfg ?? null;
    }
  }
  if (typeof data.name === 'string') model.name = data.name;
  if (data.version !== undefined) ld.warnings.push(`${file}: the top-level version key is obsolete and ignored`);
  for (const [k, v] of Object.entries(data)) if (k.startsWith('x-')) model.extensions[k] = v;
  return model;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Loads every file and merges them in order. A project whose files are all empty is an error, as in Compose. */
export function loadFiles(files: string[], projectDir: string, ld: LoadContext): LoadedModel {
  let model: LoadedModel | undefined;
  for (const f of files) {
    const m = loadFile(f, projectDir, ld, [f]);
    model = model ? mergeModels(model, m) : m;
  }
  if (!model) throw new TscError('SPEC_NOT_FOUND', 'no compose file given');
  if (!ld.nonEmpty) {
    throw new TscError('SPEC_INVALID', `empty compose file: ${files.join(', ')} ${files.length > 1 ? 'define' : 'defines'} nothing`, {
      hint: 'add a services: section',
    });
  }
  return model;
}
