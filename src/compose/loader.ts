/**
 * The loading pipeline, in Compose's order: discover files → read env files → per file: parse,
 * interpolate, validate, canonicalize (short → long, absolute paths), resolve include and
 * extends → merge the files → defaults → profiles → cross-reference checks.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import { TscError } from '../common/errors.js';
import { findCycle } from '../common/graph.js';
import { canonicalService, stripTags } from './canonical.js';
import { checkNetwork } from './canonical-networks.js';
import { resolveHostPath, specError, type CanonContext } from './canonical-values.js';
import { parseEnvFile, readEnvFile } from './dotenv.js';
import { interpolateTree, type EnvironmentEntry, type InterpolationContext, type ResolvedVariable } from './interpolate.js';
import { mergeMapping, mergeService, unwrap } from './merge.js';
import { formatPath, nearest, type SourceMap } from './position.js';
import { ProjectSchema, type DependsOn, type Network, type Project, type Service, type Volume } from './schema.js';
import { applyEnvFiles } from './service-env.js';
import { addImpliedDependencies, parseLink, type ImpliedDependency } from './implied.js';
import { checkUnknownKeys, validateFile } from './validate.js';
import { parseComposeYaml, Tagged } from './yaml.js';

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

export const DISCOVERY_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'];
const OVERRIDE_NAMES = ['compose.override.yaml', 'compose.override.yml', 'docker-compose.override.yaml', 'docker-compose.override.yml'];

type Obj = Record<string, unknown>;
type Path = (string | number)[];

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Tagged);
}

/** A service fragment plus where it was declared (for error positions). */
interface ServiceFragment {
  data: Obj;
  file: string;
  positions: SourceMap;
}

interface LoadedModel {
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

interface Loader {
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
  /** set when any file read has a top-level key (Compose rejects a project of empty files) */
  nonEmpty?: boolean;
}

// ----------------------------------------------------------------------------- discovery

function findComposeFiles(workingDir: string, warnings: string[]): string[] {
  let dir = path.resolve(workingDir);
  for (;;) {
    const found = DISCOVERY_NAMES.filter((n) => existsSync(path.join(dir, n)));
    if (found.length > 0) {
      if (found.length > 1) warnings.push(`Found multiple config files with supported names: ${found.map((f) => path.join(dir, f)).join(', ')}; using ${path.join(dir, found[0])}`);
      const files = [path.join(dir, found[0])];
      const override = OVERRIDE_NAMES.find((n) => existsSync(path.join(dir, n)));
      if (override) files.push(path.join(dir, override));
      return files;
    }
    const parent = path.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new TscError('SPEC_NOT_FOUND', `no configuration file provided: none of ${DISCOVERY_NAMES.join(', ')} was found in ${workingDir} or its parent directories`, {
    hint: 'run tscompose in the directory of your compose.yaml, or name the file with -f',
  });
}

/** Normalizes a project name as Compose does: lower case, only [a-z0-9_-], starting with a letter or digit. */
export function normalizeProjectName(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[^a-z0-9]+/, '');
}

function checkProjectName(nameValue: string, from: string): string {
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(nameValue)) {
    throw new TscError('SPEC_INVALID', `invalid project name ${JSON.stringify(nameValue)} (from ${from}): it must contain only lower-case letters, digits, "-" and "_", and start with a letter or digit`);
  }
  return nameValue;
}

// ----------------------------------------------------------------------------- per file

function readText(file: string, what: string): string {
  try {
    if (statSync(file).isDirectory()) throw new TscError('SPEC_NOT_FOUND', `${what} ${file} is a directory, not a compose file`);
    return readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof TscError) throw e;
    throw new TscError('SPEC_NOT_FOUND', `cannot read ${what} ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String((e as Error).message)}`, { cause: e });
  }
}

function loadRawFile(file: string, ld: Loader): { data: Obj; positions: SourceMap } {
  const hit = ld.cache.get(file);
  if (hit) return hit;
  const parsed = parseComposeYaml(readText(file, 'compose file'), file);
  const label = (p: Path): string => {
    const pos = parsed.positions.find(p);
    return `${pos ? `${file}:${pos.line}:${pos.col}` : file} ${formatPath(p) || '(top level)'}`;
  };
  if (Object.keys(parsed.data as Obj).length > 0) ld.nonEmpty = true;
  let data: Obj;
  try {
    data = (ld.raw ? parsed.data : interpolateTree(parsed.data, ld.interp, [], label)) as Obj;
  } catch (e) {
    // an unknown key (`pre_start:`) is the real problem, not the syntax of its value
    if (e instanceof TscError && e.code === 'SPEC_INTERPOLATION') checkUnknownKeys(parsed.data, { file, positions: parsed.positions });
    throw e;
  }
  validateFile(data, { file, positions: parsed.positions });
  const out = { data, positions: parsed.positions };
  ld.cache.set(file, out);
  return out;
}

/** Loads one file into canonical fragments (include and extends resolved). */
function loadFile(file: string, baseDir: string, ld: Loader, includeStack: string[]): LoadedModel {
  const { data, positions } = loadRawFile(file, ld);
  const ctx: CanonContext = { baseDir, file, positions, env: ld.lookupValue, raw: ld.raw, keepPaths: ld.keepPaths };
  // included files are loaded from their resolved paths whatever the display mode
  const loadCtx: CanonContext = { ...ctx, keepPaths: false };
  const model: LoadedModel = { services: {}, networks: {}, volumes: {}, secrets: {}, configs: {}, models: {}, extensions: {}, files: [file] };

  // include: each entry is loaded as its own sub-project, then its resources are added.
  const includes = (data.include as unknown[] | undefined) ?? [];
  includes.forEach((entry, i) => {
    const e = typeof entry === 'string' ? { path: entry } : (stripTags(entry) as Obj);
    const paths = (Array.isArray(e.path) ? e.path : [e.path]).map((p) => resolveHostPath(String(p), loadCtx));
    const projDir = e.project_directory !== undefined ? resolveHostPath(String(e.project_directory), loadCtx) : path.dirname(paths[0]);
    for (const p of paths) {
      if (includeStack.includes(p)) throw specError(ctx, ['include', i], `include cycle: ${[...includeStack, p].join(' -> ')}`);
    }
    // The included files interpolate with the including project's environment first, then
    // their own env files (default: the .env of their project directory).
    const envFiles =
      e.env_file !== undefined
        ? (Array.isArray(e.env_file) ? e.env_file : [e.env_file]).map((f) => resolveHostPath(String(f), loadCtx))
        : [path.join(projDir, '.env')].filter((f) => existsSync(f));
    const incVars: Record<string, string> = {};
    for (const f of envFiles) Object.assign(incVars, readEnvFile(f, ld.lookupValue));
    const incLookup = (n: string): ResolvedVariable | undefined =>
      ld.interp.lookup(n) ?? (Object.prototype.hasOwnProperty.call(incVars, n) ? { value: incVars[n], source: 'env-file' } : undefined);
    const subLd: Loader = { ...ld, cache: new Map(), interp: { ...ld.interp, lookup: incLookup }, lookupValue: (n) => incLookup(n)?.value };
    let sub: LoadedModel | undefined;
    for (const p of paths) {
      const m = loadFile(p, projDir, subLd, [...includeStack, file, p]);
      sub = sub ? mergeModels(sub, m) : m;
    }
    if (!sub) return;
    for (const kind of ['services', 'networks', 'volumes'] as const) {
      for (const [k, v] of Object.entries(sub[kind])) {
        if (k in model[kind] && (kind === 'services' || !sameValue(model[kind][k], v))) {
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
    if (n in model.services) {
      throw specError(ctx, ['services', n], `service ${JSON.stringify(n)} is defined both here and in an included file`, 'an included project\'s resources cannot be redefined; use extends or a separate -f override file');
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
        if (k in model[kind] && !sameValue(model[kind][k], cfg ?? null)) {
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

/** Resolves `extends` for one service of a file (recursively, across files). */
function resolveExtends(name: string, canon: Record<string, Obj>, file: string, ld: Loader, stack: string[], memo: Map<string, Obj>): Obj {
  const id = `${file}#${name}`;
  const hit = memo.get(id);
  if (hit) return hit;
  const svc = canon[name];
  const ext = svc.extends as Obj | undefined;
  if (!ext) {
    memo.set(id, svc);
    return svc;
  }
  const { positions } = loadRawFile(file, ld);
  const ctx = { file, positions };
  if (stack.includes(id)) {
    throw specError(ctx, ['services', name, 'extends'], `extends cycle: ${[...stack, id].map((s) => s.replace(/^.*[\\/]/, '')).join(' -> ')}`);
  }
  const baseName = String(ext.service);
  let base: Obj;
  if (ext.file !== undefined) {
    const other = path.resolve(path.dirname(file), String(ext.file));
    const raw = loadRawFile(other, ld);
    const services = isObj(raw.data.services) ? raw.data.services : {};
    if (!(baseName in services)) {
      throw specError(ctx, ['services', name, 'extends', 'service'], `service ${JSON.stringify(baseName)} not found in ${other}`, hintFor(baseName, Object.keys(services)));
    }
    // Paths in the extended file stay relative to that file.
    const otherCtx: CanonContext = { baseDir: path.dirname(other), file: other, positions: raw.positions, env: ld.lookupValue, raw: ld.raw, keepPaths: ld.keepPaths };
    const otherCanon: Record<string, Obj> = {};
    for (const [n, s] of Object.entries(services)) otherCanon[n] = canonicalService((s ?? {}) as Obj, otherCtx, ['services', n]);
    base = resolveExtends(baseName, otherCanon, other, ld, [...stack, id], memo);
  } else {
    if (!(baseName in canon)) {
      throw specError(ctx, ['services', name, 'extends', 'service'], `service ${JSON.stringify(name)} extends unknown service ${JSON.stringify(baseName)}`, hintFor(baseName, Object.keys(canon)));
    }
    base = resolveExtends(baseName, canon, file, ld, [...stack, id], memo);
  }
  const child = { ...svc };
  delete child.extends;
  const baseCopy = { ...base };
  delete baseCopy.extends;
  const merged = mergeService(baseCopy, child);
  memo.set(id, merged);
  return merged;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function hintFor(name: string, candidates: string[]): string | undefined {
  const n = nearest(name, candidates);
  return n ? `did you mean ${JSON.stringify(n)}?` : candidates.length ? `known services: ${candidates.sort().join(', ')}` : undefined;
}

function mergeModels(a: LoadedModel, b: LoadedModel): LoadedModel {
  const services: Record<string, ServiceFragment> = { ...a.services };
  for (const [n, f] of Object.entries(b.services)) {
    services[n] = services[n] ? { data: mergeService(services[n].data, f.data), file: f.file, positions: f.positions } : f;
  }
  return {
    name: b.name ?? a.name,
    services,
    networks: mergeMapping(a.networks, b.networks),
    volumes: mergeMapping(a.volumes, b.volumes),
    secrets: mergeMapping(a.secrets, b.secrets),
    configs: mergeMapping(a.configs, b.configs),
    models: mergeMapping(a.models, b.models),
    extensions: mergeMapping(a.extensions, b.extensions),
    files: [...a.files, ...b.files.filter((f) => !a.files.includes(f))],
  };
}

// ----------------------------------------------------------------------------- finalize

/** Service keys tscompose acts on; any other Compose key is kept and reported as unsupported. */
const SUPPORTED_KEYS = new Set([
  'image', 'build', 'command', 'entrypoint', 'environment', 'env_file', 'ports', 'expose', 'volumes', 'tmpfs',
  'networks', 'network_mode', 'depends_on', 'healthcheck', 'restart', 'deploy', 'mem_limit', 'mem_reservation',
  'memswap_limit', 'cpus', 'cpu_shares', 'cpu_quota', 'cpu_period', 'cpuset', 'pids_limit', 'user', 'working_dir',
  'hostname', 'domainname', 'labels', 'init', 'stop_signal', 'stop_grace_period', 'read_only', 'cap_add', 'cap_drop',
  'privileged', 'extra_hosts', 'dns', 'dns_search', 'dns_opt', 'sysctls', 'ulimits', 'group_add', 'tty', 'stdin_open',
  'container_name', 'profiles', 'pull_policy', 'scale', 'links', 'provider',
]);
const SUPPORTED_DEPLOY = new Set(['replicas', 'resources']);

function stringMap(d: Record<string, string | null>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(d)) out[k] = v ?? '';
  return out;
}

function finalizeService(name: string, frag: ServiceFragment, ld: Loader, implied: Map<string, Map<string, ImpliedDependency>>): Service {
  const s = unwrap(frag.data) as Obj;
  const ctx = { file: frag.file, positions: frag.positions };
  const at = (...p: Path): Path => ['services', name, ...p];
  // `image: ""` is no image (compose-go compares with the empty string)
  if (s.image === '') delete s.image;
  if (ld.strict && s.image === undefined && s.build === undefined && s.provider === undefined) {
    throw specError(ctx, at(), `service ${JSON.stringify(name)} has neither an image nor a build context specified`, 'add image: (for example image: busybox:latest)');
  }
  const platforms = (s.build as Obj | undefined)?.platforms;
  if (ld.strict && typeof s.platform === 'string' && s.platform !== '' && Array.isArray(platforms) && platforms.length > 0 && !platforms.includes(s.platform)) {
    throw specError(ctx, at('platform'), `platform ${JSON.stringify(s.platform)} of service ${JSON.stringify(name)} is not among its build.platforms (${platforms.map(String).join(', ')}): Compose requires build.platforms to include service.platform`, 'add it to build.platforms or change platform');
  }
  // environment as declared; env_file contents go under it once the selection is known (applyEnvFiles)
  const env: Record<string, string | null> = {};
  for (const [k, v] of Object.entries((s.environment as Record<string, string | null> | undefined) ?? {})) {
    env[k] = v === null ? (ld.lookupValue(k) ?? null) : v;
  }
  const deploy = s.deploy as Obj | undefined;
  if (s.scale !== undefined) {
    const rep = deploy?.replicas;
    if (ld.strict && rep !== undefined && rep !== s.scale) throw specError(ctx, at('scale'), `scale (${String(s.scale)}) and deploy.replicas (${String(rep)}) disagree`);
  }
  const svc: Obj = {
    name,
    command: s.command === undefined ? null : s.command,
    entrypoint: s.entrypoint === undefined ? null : s.entrypoint,
    environment: env,
    ports: s.ports ?? [],
    expose: s.expose ?? [],
    volumes: s.volumes ?? [],
    tmpfs: s.tmpfs ?? [],
    networks: s.networks ?? {},
    depends_on: { ...((s.depends_on as Obj | undefined) ?? {}) },
    labels: stringMap((s.labels as Record<string, string | null>) ?? {}),
    cap_add: s.cap_add ?? [],
    cap_drop: s.cap_drop ?? [],
    extra_hosts: s.extra_hosts ?? {},
    dns: s.dns ?? [],
    dns_search: s.dns_search ?? [],
    dns_opt: s.dns_opt ?? [],
    sysctls: stringMap((s.sysctls as Record<string, string | null>) ?? {}),
    ulimits: s.ulimits ?? {},
    group_add: s.group_add ?? [],
    profiles: s.profiles ?? [],
    extensions: {},
    unsupported: {},
  };
  for (const k of ['image', 'network_mode', 'restart', 'mem_limit', 'mem_reservation', 'memswap_limit', 'cpus', 'cpu_shares', 'cpu_quota', 'cpu_period', 'cpuset', 'pids_limit', 'user', 'working_dir', 'hostname', 'domainname', 'init', 'stop_signal', 'stop_grace_period', 'read_only', 'privileged', 'tty', 'stdin_open', 'container_name', 'pull_policy']) {
    if (s[k] !== undefined) svc[k] = s[k];
  }
  if (s.env_file !== undefined) svc.env_file = s.env_file;
  if (Array.isArray(s.links)) svc.links = s.links.map((l) => parseLink(String(l)));
  if (s.provider !== undefined) svc.provider = s.provider;
  implied.set(name, addImpliedDependencies(name, s, svc.depends_on as Record<string, DependsOn>));
  if (s.build !== undefined) {
    const b = { ...(s.build as Obj) };
    // Compose's default, unless the Dockerfile is inline (the two are mutually exclusive)
    if (b.dockerfile_inline === undefined) b.dockerfile ??= 'Dockerfile';
    else if (ld.strict && b.dockerfile !== undefined) throw specError(ctx, at('build', 'dockerfile_inline'), `service ${JSON.stringify(name)} sets both build.dockerfile and build.dockerfile_inline`, 'keep one of them');
    svc.build = b;
    ld.warnings.push(`services.${name}.build: building images is not supported by tscompose yet; the build section is kept, and ${s.image ? `the image ${String(s.image)} must already be in the local image store` : 'the service cannot start until it has an image'}`);
  }
  if (s.healthcheck !== undefined) {
    const h = { ...(s.healthcheck as Obj) };
    const test = h.test as string[] | undefined;
    h.disable = h.disable === true || (test !== undefined && test[0] === 'NONE');
    svc.healthcheck = h;
  }
  if (deploy !== undefined || s.scale !== undefined) {
    const d: Obj = { ...(deploy ?? {}) };
    if (s.scale !== undefined && d.replicas === undefined) d.replicas = s.scale;
    for (const k of Object.keys(d)) if (!SUPPORTED_DEPLOY.has(k)) ld.warnings.push(`services.${name}.deploy.${k} is not supported by tscompose yet: it is kept in the model but has no effect`);
    const res = d.resources as Obj | undefined;
    if (res?.reservations !== undefined) ld.warnings.push(`services.${name}.deploy.resources.reservations is not supported by tscompose yet: it is kept in the model but has no effect`);
    svc.deploy = d;
  }
  if (ld.strict && s.network_mode !== undefined && s.networks !== undefined) {
    throw specError(ctx, at('network_mode'), `service ${JSON.stringify(name)} sets both network_mode and networks`, 'use one of them: network_mode replaces the service\'s networks');
  }
  for (const [k, v] of Object.entries(s)) {
    if (k.startsWith('x-')) (svc.extensions as Obj)[k] = v;
    else if (!SUPPORTED_KEYS.has(k)) {
      (svc.unsupported as Obj)[k] = v;
      if (k === 'security_opt') {
        // no-new-privileges is applied (read from unsupported.security_opt); other options are not.
        const other = (v as string[]).filter((o) => !/^no-new-privileges([:=]true)?$/.test(o));
        if (other.length > 0) ld.warnings.push(`services.${name}.security_opt: ${other.map((o) => JSON.stringify(o)).join(', ')} ${other.length > 1 ? 'are' : 'is'} not supported by tscompose yet and ignored (only no-new-privileges is)`);
        continue;
      }
      // kept in `unsupported` for the model's shape, but applied by the runtime
      if (k === 'logging' || k === 'shm_size') continue;
      ld.warnings.push(`services.${name}.${k} is not supported by tscompose yet: it is kept in the model but has no effect`);
    }
  }
  return svc as unknown as Service;
}

/** Labels of a network or volume (list or mapping, validated already) as a string mapping. */
function labelsOf(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(v)) {
    for (const e of v) {
      const s = String(e);
      const eq = s.indexOf('=');
      out[eq < 0 ? s : s.slice(0, eq)] = eq < 0 ? '' : s.slice(eq + 1);
    }
  } else if (isObj(v)) {
    for (const [k, val] of Object.entries(v)) out[k] = val === null || val === undefined ? '' : String(val);
  }
  return out;
}

function finalizeNetwork(key: string, raw: unknown, project: string): Network {
  const n = (isObj(raw) ? raw : {}) as Obj;
  const ext = n.external;
  const external = ext === true || ext === 'true' || isObj(ext);
  const extName = isObj(ext) && typeof ext.name === 'string' ? ext.name : undefined;
  const out: Obj = {
    name: typeof n.name === 'string' ? n.name : external ? (extName ?? key) : `${project}_${key}`,
    external,
    internal: n.internal === true || n.internal === 'true',
    labels: labelsOf(n.labels),
    extensions: Object.fromEntries(Object.entries(n).filter(([k]) => k.startsWith('x-'))),
  };
  if (n.driver !== undefined) out.driver = n.driver;
  if (isObj(n.driver_opts)) out.driver_opts = Object.fromEntries(Object.entries(n.driver_opts).map(([k, v]) => [k, String(v)]));
  if (isObj(n.ipam)) out.ipam = { ...n.ipam, config: (n.ipam.config as unknown[] | undefined) ?? [] };
  if (n.enable_ipv6 !== undefined) out.enable_ipv6 = n.enable_ipv6 === true || n.enable_ipv6 === 'true';
  if (n.attachable !== undefined) out.attachable = n.attachable === true || n.attachable === 'true';
  return out as unknown as Network;
}

function finalizeVolume(key: string, raw: unknown, project: string): Volume {
  const v = (isObj(raw) ? raw : {}) as Obj;
  const ext = v.external;
  const external = ext === true || ext === 'true' || isObj(ext);
  const extName = isObj(ext) && typeof ext.name === 'string' ? ext.name : undefined;
  const out: Obj = {
    name: typeof v.name === 'string' ? v.name : external ? (extName ?? key) : `${project}_${key}`,
    external,
    labels: labelsOf(v.labels),
    extensions: Object.fromEntries(Object.entries(v).filter(([k]) => k.startsWith('x-'))),
  };
  if (v.driver !== undefined) out.driver = v.driver;
  if (isObj(v.driver_opts)) out.driver_opts = Object.fromEntries(Object.entries(v.driver_opts).map(([k, val]) => [k, String(val)]));
  return out as unknown as Volume;
}

export { findCycle };

// ----------------------------------------------------------------------------- entry

/** Loads, validates and normalizes a Compose project. Throws TscError (SPEC_*) on user errors. */
export async function loadProject(opts: LoadOptions): Promise<Project> {
  const warnings: string[] = [];
  const shell = opts.env;
  const workingDir = path.resolve(opts.workingDir);

  // env files: --env-file replaces the project's .env; the shell always wins.
  const dotenv: Record<string, { value: string; source: 'env-file' | 'dotenv' }> = {};
  const shellValue = (n: string): string | undefined => shell[n];
  const readDotenv = (dir: string): void => {
    for (const k of Object.keys(dotenv)) delete dotenv[k];
    if (opts.envFiles && opts.envFiles.length > 0) {
      for (const f of opts.envFiles) {
        const abs = path.resolve(workingDir, f);
        const vars = readEnvFile(abs, shellValue);
        for (const [k, v] of Object.entries(vars)) dotenv[k] = { value: v, source: 'env-file' };
      }
    } else {
      const f = path.join(dir, '.env');
      if (existsSync(f) && statSync(f).isFile()) {
        const vars = parseEnvFile(readFileSync(f, 'utf8'), f, shellValue);
        for (const [k, v] of Object.entries(vars)) dotenv[k] = { value: v, source: 'dotenv' };
      }
    }
  };
  const lookup = (n: string): ResolvedVariable | undefined => {
    const s = shell[n];
    if (s !== undefined) return { value: s, source: 'shell' };
    const d = dotenv[n];
    return d ? { value: d.value, source: d.source } : undefined;
  };
  const lookupValue = (n: string): string | undefined => lookup(n)?.value;

  const explicitDir = opts.projectDirectory ? path.resolve(workingDir, opts.projectDirectory) : undefined;
  readDotenv(explicitDir ?? workingDir);

  let files: string[];
  if (opts.files && opts.files.length > 0) {
    files = opts.files.map((f) => path.resolve(workingDir, f));
  } else if (lookupValue('COMPOSE_FILE')) {
    const sep = lookupValue('COMPOSE_PATH_SEPARATOR') ?? ':';
    files = lookupValue('COMPOSE_FILE')!.split(sep).filter(Boolean).map((f) => path.resolve(explicitDir ?? workingDir, f));
  } else {
    files = findComposeFiles(explicitDir ?? workingDir, warnings);
  }
  if (files.includes(path.resolve(workingDir, '-'))) {
    throw new TscError('SPEC_NOT_FOUND', 'reading a compose file from standard input (-f -) is not supported by tscompose yet', { hint: 'write the file to disk and pass its path with -f' });
  }
  for (const f of files) if (!existsSync(f)) throw new TscError('SPEC_NOT_FOUND', `compose file ${f} does not exist`);
  const projectDir = explicitDir ?? path.dirname(files[0]);
  if (projectDir !== (explicitDir ?? workingDir)) readDotenv(projectDir);

  const report = new Map<string, EnvironmentEntry>();
  const ld: Loader = {
    interp: { lookup, report, warnings },
    raw: opts.interpolate === false,
    strict: opts.consistency !== false,
    keepPaths: opts.resolvePaths === false,
    warnings,
    lookupValue,
    cache: new Map(),
  };

  let model: LoadedModel | undefined;
  for (const f of files) {
    const m = loadFile(f, projectDir, ld, [f]);
    model = model ? mergeModels(model, m) : m;
  }
  if (!model) throw new TscError('SPEC_NOT_FOUND', 'no compose file given');
  if (!ld.nonEmpty) {
    throw new TscError('SPEC_INVALID', `empty compose file: ${files.join(', ')} ${files.length > 1 ? 'define' : 'defines'} nothing`, { hint: 'add a services: section' });
  }

  // project name
  let name: string;
  if (opts.projectName) name = checkProjectName(opts.projectName, '-p');
  else if (lookupValue('COMPOSE_PROJECT_NAME')) name = checkProjectName(lookupValue('COMPOSE_PROJECT_NAME')!, 'COMPOSE_PROJECT_NAME');
  else if (model.name) name = checkProjectName(model.name, 'the top-level name: key');
  else {
    name = normalizeProjectName(path.basename(projectDir));
    if (!name) throw new TscError('SPEC_INVALID', `cannot derive a project name from the directory ${projectDir}`, { hint: 'set one with -p NAME or a top-level name: key' });
  }

  // services
  const all: Record<string, Service> = {};
  // links, network_mode/ipc/pid `service:X` and volumes_from add implied depends_on entries
  const implied = new Map<string, Map<string, ImpliedDependency>>();
  for (const [n, frag] of Object.entries(model.services)) all[n] = finalizeService(n, frag, ld, implied);
  const fragOf = (n: string) => model!.services[n];
  /** where `from`'s dependency on `dep` is declared: its implied origin or its depends_on entry */
  const edgePath = (from: string, dep: string): Path => implied.get(from)?.get(dep)?.path ?? dependsOnPath(from, dep, fragOf(from), ld);

  // depends_on names must exist
  for (const s of Object.values(all)) {
    for (const dep of Object.keys(s.depends_on)) {
      if (!(dep in all) && ld.strict) {
        const origin = implied.get(s.name)?.get(dep);
        const what = origin ? `${origin.field} refers to undefined service ${JSON.stringify(dep)}` : `service ${JSON.stringify(s.name)} depends on undefined service ${JSON.stringify(dep)}`;
        throw new TscError('SPEC_REFERENCE', `${posText(fragOf(s.name), edgePath(s.name, dep))}${origin ? `${formatPath(origin.path)}: ` : ''}${what}`, { hint: hintFor(dep, Object.keys(all)) });
      }
    }
  }
  const cycle = findCycle(Object.fromEntries(Object.values(all).map((s) => [s.name, Object.keys(s.depends_on)])));
  if (cycle) {
    const first = edgePath(cycle[0], cycle[1]);
    throw new TscError('SPEC_REFERENCE', `${posText(fragOf(cycle[0]), first)}${formatPath(first)}: dependency cycle between services: ${cycle.join(' -> ')}`, {
      hint: 'remove one of these dependencies (depends_on, links, volumes_from or a service: namespace)',
    });
  }

  // profiles
  const profileSrc = opts.profiles ?? (lookupValue('COMPOSE_PROFILES') ?? '').split(',');
  const active = [...new Set(profileSrc.map((p) => p.trim()).filter(Boolean))];
  const enabled = new Set<string>();
  for (const s of Object.values(all)) {
    if (s.profiles.length === 0 || active.includes('*') || s.profiles.some((p) => active.includes(p))) enabled.add(s.name);
  }
  for (const want of opts.services ?? []) {
    if (!(want in all)) throw new TscError('NO_SUCH_SERVICE', `no such service: ${want}`, { hint: hintFor(want, Object.keys(all)) });
    const queue = [want];
    while (queue.length) {
      const n = queue.shift()!;
      if ((enabled.has(n) && n !== want) || !all[n]) continue;
      enabled.add(n);
      for (const d of Object.keys(all[n].depends_on)) if (!enabled.has(d)) queue.push(d);
    }
  }
  // env files: required for the services the command works on (named ones and their
  // dependencies, else every enabled one), as compose-go resolves them after selection
  const selected = opts.services?.length ? withDeps(opts.services, all) : enabled;
  for (const [n, s] of Object.entries(all)) applyEnvFiles(s, { ...fragOf(n), lookupValue, baseDir: workingDir }, enabled.has(n) && selected.has(n));

  for (const n of [...enabled].sort()) {
    const s = all[n];
    for (const [dep, cfg] of Object.entries(s.depends_on)) {
      if (enabled.has(dep) || !all[dep]) continue; // an undefined one: only with --no-consistency
      if (cfg.required) {
        throw new TscError('SPEC_REFERENCE', `service ${JSON.stringify(n)} depends on ${JSON.stringify(dep)}, which is not enabled: it has profile${all[dep].profiles.length > 1 ? 's' : ''} ${all[dep].profiles.join(', ')}`, {
          hint: `enable it with --profile ${all[dep].profiles[0]} (or COMPOSE_PROFILES), or name ${dep} on the command line`,
        });
      }
      warnings.push(`service ${JSON.stringify(n)}: optional dependency ${JSON.stringify(dep)} is disabled by its profiles and is ignored`);
      delete s.depends_on[dep];
    }
  }

  // networks and volumes
  const networks: Record<string, Network> = {};
  for (const [k, v] of Object.entries(model.networks)) networks[k] = finalizeNetwork(k, v, name);
  const volumes: Record<string, Volume> = {};
  for (const [k, v] of Object.entries(model.volumes)) volumes[k] = finalizeVolume(k, v, name);
  for (const s of Object.values(all)) {
    if (Object.keys(s.networks).length === 0 && s.network_mode === undefined) s.networks = { default: null };
    for (const net of Object.keys(s.networks)) {
      if (net === 'default' && !(net in networks)) {
        if (enabled.has(s.name)) networks.default = finalizeNetwork('default', null, name);
        continue;
      }
      if (!(net in networks) && ld.strict) {
        throw new TscError('SPEC_REFERENCE', `${posText(fragOf(s.name), ['services', s.name, 'networks', net])}service ${JSON.stringify(s.name)} refers to undefined network ${JSON.stringify(net)}`, {
          hint: hintFor(net, Object.keys(networks)) ?? `declare it under the top-level networks: key`,
        });
      }
    }
    s.volumes.forEach((v, i) => {
      if (ld.strict && v.type === 'volume' && v.source !== undefined && !(v.source in volumes)) {
        throw new TscError('SPEC_REFERENCE', `${posText(fragOf(s.name), ['services', s.name, 'volumes', i])}service ${JSON.stringify(s.name)} refers to undefined volume ${JSON.stringify(v.source)}`, {
          hint: nearest(v.source, Object.keys(volumes)) ? `did you mean ${JSON.stringify(nearest(v.source, Object.keys(volumes)))}?` : 'declare it under the top-level volumes: key, or write a path (./dir) for a bind mount',
        });
      }
    });
  }
  for (const [k, n] of Object.entries(networks)) {
    if (n.external) continue;
    if (n.driver !== undefined && n.driver !== 'bridge') warnings.push(`networks.${k}.driver ${JSON.stringify(n.driver)} is not supported by tscompose (only bridge networks): it is kept but the network is created as a bridge`);
    if (n.ipam?.driver !== undefined && n.ipam.driver !== 'default') warnings.push(`networks.${k}.ipam.driver ${JSON.stringify(n.ipam.driver)} is not supported by tscompose: addresses come from its own IPAM`);
    if (n.enable_ipv6) warnings.push(`networks.${k}.enable_ipv6 is not supported by tscompose yet: the network gets IPv4 only`);
  }
  for (const [k, v] of Object.entries(volumes)) {
    if (!v.external && v.driver !== undefined && v.driver !== 'local') warnings.push(`volumes.${k}.driver ${JSON.stringify(v.driver)} is not supported by tscompose (only local volumes): it is kept but the volume is a local directory`);
  }
  for (const s of Object.values(all).filter((x) => enabled.has(x.name))) {
    s.volumes.forEach((v, i) => {
      if (v.type === 'cluster' || v.type === 'npipe' || v.type === 'image') warnings.push(`services.${s.name}.volumes[${i}]: mounts of type ${v.type} are not supported by tscompose yet and are skipped`);
      if (v.bind?.selinux) warnings.push(`services.${s.name}.volumes[${i}]: SELinux relabeling (${v.bind.selinux}) is not supported by tscompose and is ignored`);
    });
  }
  for (const kind of ['secrets', 'configs', 'models'] as const) {
    if (Object.keys(model[kind]).length > 0) warnings.push(`top-level ${kind} are not supported by tscompose yet: they are kept but have no effect`);
  }

  for (const n of [...enabled].sort()) {
    for (const [dep, cfg] of Object.entries(all[n].depends_on)) {
      const h = all[dep]?.healthcheck;
      if (cfg.condition === 'service_healthy' && h?.disable) {
        warnings.push(`service ${JSON.stringify(n)} waits for ${JSON.stringify(dep)} to be healthy, but ${dep}'s healthcheck is disabled: it will never become healthy`);
      } else if (cfg.condition === 'service_healthy' && h === undefined) {
        warnings.push(`service ${JSON.stringify(n)} waits for ${JSON.stringify(dep)} to be healthy, but ${dep} declares no healthcheck: its image must define one`);
      }
    }
  }
  for (const n of enabled) {
    const s = all[n];
    if (ld.strict && s.container_name !== undefined && (s.deploy?.replicas ?? 1) > 1) {
      throw specError(fragOf(n), ['services', n, 'container_name'], `service ${JSON.stringify(n)} sets container_name but runs ${s.deploy?.replicas} replicas: container names must be unique`, 'remove container_name or set deploy.replicas to 1');
    }
  }

  const services: Record<string, Service> = {};
  const disabledServices: Record<string, Service> = {};
  for (const n of Object.keys(all).sort()) (enabled.has(n) ? services : disabledServices)[n] = all[n];
  const allProfiles = [...new Set(Object.values(all).flatMap((s) => s.profiles))].sort();

  const project: Project = {
    name,
    workingDir: projectDir,
    composeFiles: model.files,
    services,
    disabledServices,
    networks: sortKeys(networks),
    volumes: sortKeys(volumes),
    secrets: model.secrets,
    configs: model.configs,
    environment: [...report.values()].sort((a, b) => a.name.localeCompare(b.name)),
    profiles: active,
    allProfiles,
    extensions: model.extensions,
    warnings: [...new Set(warnings)],
  };
  const check = ProjectSchema.safeParse(project);
  if (!check.success && !ld.raw && ld.strict) {
    const i = check.error.issues[0];
    throw new TscError('INTERNAL', `the normalized model does not match its schema at ${formatPath(i.path as Path)}: ${i.message}`);
  }
  return project;
}

/** `names` and everything they depend on, transitively. */
function withDeps(names: string[], all: Record<string, Service>): Set<string> {
  const out = new Set<string>();
  const queue = [...names];
  while (queue.length) {
    const n = queue.shift()!;
    if (out.has(n) || !all[n]) continue;
    out.add(n);
    queue.push(...Object.keys(all[n].depends_on));
  }
  return out;
}

/** The path of a depends_on entry as written: `depends_on.db` (mapping) or `depends_on[1]` (list). */
function dependsOnPath(from: string, dep: string, frag: ServiceFragment, ld: Loader): Path {
  const base: Path = ['services', from, 'depends_on'];
  if (frag.positions.get([...base, dep])) return [...base, dep];
  const raw = ld.cache.get(frag.file)?.data.services;
  const list = isObj(raw) && isObj(raw[from]) ? (raw[from] as Obj).depends_on : undefined;
  const i = Array.isArray(list) ? list.indexOf(dep) : -1;
  return i >= 0 ? [...base, i] : [...base, dep];
}

function posText(frag: ServiceFragment, p: Path): string {
  const pos = frag.positions.find(p);
  return pos ? `${pos.file}:${pos.line}:${pos.col}: ` : '';
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
}
