/**
 * A service's `build:` section → the builder's BuildRequest, as Docker Compose v2 turns it into
 * build options (pkg/compose/build.go): the image is tagged `image:` or `<project>-<service>`
 * plus `build.tags`, the labels get com.docker.compose.project/service, `--build-arg` values
 * override `build.args`. Keys the builder cannot honour are refused here, when a build is asked
 * for, with the reason (as Compose's classic builder refuses what it cannot do); keys that only
 * tune caching are reported as warnings and the build goes on.
 */
import type { BuildRequest } from '../build/index.js';
import { TscError } from '../common/errors.js';
import type { Service } from '../compose/index.js';
import { hostPlatform, parsePlatform } from '../images/index.js';
import { serviceImageRef } from './service-image.js';

/** What the command line adds to every build (`build --no-cache --pull --build-arg`, `up --build`). */
export interface BuildOverrides {
  noCache?: boolean;
  pull?: boolean;
  /** `--build-arg K=V`; a null value (`--build-arg K`) is taken from the environment */
  args?: Record<string, string | null>;
}

export interface PreparedBuild {
  service: string;
  request: BuildRequest;
  warnings: string[];
}

/** Keys that change what is built and that tscompose's builder cannot provide: the build is refused. */
const REFUSED: Record<string, string> = {
  ssh: 'SSH agent forwarding to RUN steps',
  secrets: 'build secrets (RUN --mount=type=secret)',
  entitlements: 'build entitlements',
  extra_hosts: 'extra /etc/hosts entries for RUN steps',
};

/** Keys that only tune caching or metadata: the build goes on without them. */
const IGNORED: Record<string, string> = {
  cache_from: 'external cache sources',
  cache_to: 'cache export',
  provenance: 'provenance attestations',
  sbom: 'SBOM attestations',
  ulimits: 'ulimits for RUN steps (the defaults apply)',
};

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') return Object.keys(v).length === 0;
  return false;
}

function unsupported(service: string, what: string, hint?: string): TscError {
  return new TscError('SPEC_UNSUPPORTED', `services.${service}.build: ${what}`, { hint });
}

function network(service: string, n: string | undefined): BuildRequest['network'] {
  if (n === undefined || n === '' || n === 'default' || n === 'bridge') return 'default';
  if (n === 'none' || n === 'host') return n;
  throw unsupported(service, `network "${n}": tscompose builds with network "default", "none" or "host"`, 'remove build.network or use one of those');
}

function checkPlatforms(service: string, platforms: string[] | undefined): void {
  const host = hostPlatform();
  for (const p of platforms ?? []) {
    let want;
    try {
      want = parsePlatform(p);
    } catch {
      throw unsupported(service, `platform "${p}" is not OS/ARCH[/VARIANT]`);
    }
    if (want.os !== host.os || want.architecture !== host.architecture) {
      throw unsupported(
        service,
        `platform "${p}": tscompose builds for this host only (${host.os}/${host.architecture}); cross-platform builds need an emulating builder`,
        `remove "${p}" from build.platforms`,
      );
    }
  }
}

function additionalContexts(service: string, contexts: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, where] of Object.entries(contexts ?? {})) {
    if (where.startsWith('service:')) {
      throw unsupported(
        service,
        `additional context "${name}" is another service's image (${where}), which tscompose cannot pass to a build`,
        `build that service first and use its image by name in FROM, or give a local directory`,
      );
    }
    if (where.includes('://') || where.startsWith('git@') || where.startsWith('github.com/')) {
      throw unsupported(service, `additional context "${name}" is ${where}: tscompose builds from local directories only`, 'give a local directory');
    }
    out[name] = where;
  }
  return out;
}

/** The BuildRequest of one service (which must have `build:`), or a TscError saying what it cannot honour. */
export function buildRequestFor(project: string, s: Service, over: BuildOverrides = {}): PreparedBuild {
  const b = s.build;
  if (!b) throw new TscError('INTERNAL', `service "${s.name}" has no build section`);
  if (/^(https?|git|ssh):\/\//i.test(b.context) || b.context.startsWith('git@') || b.context.startsWith('github.com/')) {
    throw unsupported(
      s.name,
      `context ${b.context} is a remote (Git or URL) context: tscompose builds from a local directory only`,
      'clone it and point build.context at the directory',
    );
  }
  for (const [k, what] of Object.entries(REFUSED)) {
    if (!isEmpty(b[k])) throw unsupported(s.name, `${k} is not supported by tscompose's builder (${what})`, `remove build.${k} or build this image elsewhere`);
  }
  if (b.privileged === true)
    throw unsupported(s.name, 'privileged builds are not supported (RUN steps get the default capabilities)', 'remove build.privileged');
  if (typeof b.isolation === 'string' && b.isolation !== '' && b.isolation !== 'default') {
    throw unsupported(s.name, `isolation "${b.isolation}" is not available on Linux`, 'remove build.isolation');
  }
  checkPlatforms(s.name, b.platforms);
  const warnings = Object.entries(IGNORED)
    .filter(([k]) => !isEmpty(b[k]))
    .map(([k, what]) => `services.${s.name}.build.${k} is not supported by tscompose and ignored (${what})`);
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(b.labels ?? {})) labels[k] = v ?? '';
  labels['com.docker.compose.project'] = project;
  labels['com.docker.compose.service'] = s.name;
  const primary = serviceImageRef(s, project);
  const request: BuildRequest = {
    context: b.context,
    args: { ...(b.args ?? {}), ...(over.args ?? {}) },
    labels,
    network: network(s.name, b.network),
    noCache: over.noCache === true || b.no_cache === true,
    pull: over.pull === true || b.pull === true,
    tags: [...new Set([primary, ...(b.tags ?? [])])],
    additionalContexts: additionalContexts(s.name, b.additional_contexts),
    label: s.name,
  };
  if (b.dockerfile_inline !== undefined) request.dockerfileInline = b.dockerfile_inline;
  else request.dockerfile = b.dockerfile ?? 'Dockerfile';
  if (b.target !== undefined) request.target = b.target;
  if (b.shm_size !== undefined) request.shmSize = b.shm_size;
  return { service: s.name, request, warnings };
}

/** `--build-arg K=V` values (K alone: from the environment, as Compose resolves it). */
export function parseBuildArgs(values: string[] | undefined, env: (name: string) => string | undefined): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const v of values ?? []) {
    const at = v.indexOf('=');
    if (at === 0 || v === '')
      throw new TscError('USAGE', `invalid --build-arg "${v}"`, { hint: 'use --build-arg KEY=VALUE (or KEY to take it from the environment)' });
    if (at < 0) out[v] = env(v) ?? null;
    else out[v.slice(0, at)] = v.slice(at + 1);
  }
  return out;
}
