/** A service's build section → the builder's request; what up/build decide to build; the plan's "image changed". */
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { buildRequestFor, parseBuildArgs, refuseMissingBuiltImages, servicesToBuild } from '../../../src/apply/build.js';
import { desiredProject, imagesToPull } from '../../../src/apply/up.js';
import { TscError } from '../../../src/common/errors.js';
import type { Project } from '../../../src/compose/index.js';
import type { ImageRecord, ImageStore } from '../../../src/images/index.js';
import { hashableDefinition, configHash } from '../../../src/planner/hash.js';
import { plan } from '../../../src/planner/index.js';
import { withProject } from '../compose/helpers.js';

const ID_OLD = `sha256:${'1'.repeat(64)}`;
const ID_NEW = `sha256:${'2'.repeat(64)}`;

async function load(compose: string, env: Record<string, string> = {}): Promise<Project> {
  return withProject(async (p) => {
    p.write('compose.yaml', compose);
    return p.load({ env, projectName: 'shop' });
  });
}

function store(refs: Record<string, string>): ImageStore {
  return { get: (ref: string) => (refs[ref] ? ({ id: refs[ref] } as ImageRecord) : undefined) } as unknown as ImageStore;
}

function thrown(fn: () => unknown): TscError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TscError);
    return e as TscError;
  }
  throw new Error('expected an error');
}

describe('buildRequestFor', () => {
  it('names the image <project>-<service> without image:, adds build.tags, Compose labels and the command line overrides', async () => {
    const proj = await load(
      'services:\n  web:\n    build:\n      context: ./web\n      args: {A: one, B: two}\n      labels: {com.example: x}\n      tags: [extra:1, shop-web]\n      target: prod\n      shm_size: 1g\n',
    );
    const { request, warnings } = buildRequestFor('shop', proj.services.web!, { noCache: true, args: { B: 'cli', C: null } });
    expect(warnings).toEqual([]);
    expect(request).toEqual({
      context: path.join(proj.workingDir, 'web'),
      dockerfile: 'Dockerfile',
      args: { A: 'one', B: 'cli', C: null },
      labels: { 'com.example': 'x', 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'web' },
      network: 'default',
      noCache: true,
      pull: false,
      tags: ['shop-web', 'extra:1'],
      additionalContexts: {},
      target: 'prod',
      shmSize: 1024 ** 3,
      label: 'web',
    });
  });

  it('uses image: as the primary tag, the inline Dockerfile, network none/host and build.no_cache/pull', async () => {
    const proj = await load(
      'services:\n  a:\n    image: example/a:2\n    build:\n      dockerfile_inline: "FROM busybox"\n      network: host\n      no_cache: true\n      pull: true\n      additional_contexts: {assets: ./assets}\n',
    );
    const { request } = buildRequestFor('shop', proj.services.a!);
    expect(request.tags).toEqual(['example/a:2']);
    expect(request.dockerfileInline).toBe('FROM busybox');
    expect(request.dockerfile).toBeUndefined();
    expect(request.network).toBe('host');
    expect(request.noCache).toBe(true);
    expect(request.pull).toBe(true);
    expect(request.additionalContexts).toEqual({ assets: path.join(proj.workingDir, 'assets') });
  });

  it('refuses, naming the service and key, what the builder cannot honour', async () => {
    const cases: [string, RegExp][] = [
      ['build: https://github.com/example/app.git', /services\.x\.build: context https:\/\/github\.com\/example\/app\.git is a remote \(Git or URL\) context/],
      ['build: {context: ., ssh: [default]}', /services\.x\.build: ssh is not supported/],
      ['build: {context: ., secrets: [token]}', /services\.x\.build: secrets is not supported/],
      ['build: {context: ., privileged: true}', /privileged builds are not supported/],
      ['build: {context: ., extra_hosts: ["a=1.2.3.4"]}', /extra_hosts is not supported/],
      ['build: {context: ., network: backend}', /network "backend": tscompose builds with network "default", "none" or "host"/],
      ['build: {context: ., additional_contexts: {base: "service:base"}}', /additional context "base" is another service's image \(service:base\)/],
      ['build: {context: ., additional_contexts: {img: "docker-image://busybox"}}', /additional context "img" is docker-image:\/\/busybox/],
      ['build: {context: ., platforms: [linux/s390x, windows/amd64]}', /platform "(linux\/s390x|windows\/amd64)": tscompose builds for this host only/],
    ];
    for (const [yaml, re] of cases) {
      const proj = await load(`services:\n  x:\n    ${yaml}\n`);
      const e = thrown(() => buildRequestFor('shop', proj.services.x!));
      expect(e.code).toBe('SPEC_UNSUPPORTED');
      expect(e.message).toMatch(re);
    }
  });

  it('warns about cache and attestation keys and builds anyway', async () => {
    const proj = await load('services:\n  x:\n    build: {context: ., cache_from: [type=local,src=/c], cache_to: [type=inline]}\n');
    const { warnings } = buildRequestFor('shop', proj.services.x!);
    expect(warnings).toEqual([
      'services.x.build.cache_from is not supported by tscompose and ignored (external cache sources)',
      'services.x.build.cache_to is not supported by tscompose and ignored (cache export)',
    ]);
  });
});

describe('parseBuildArgs', () => {
  it('KEY=VALUE, KEY from the environment (null when unset), and refuses an empty name', () => {
    expect(parseBuildArgs(['A=1', 'B=', 'C=x=y', 'HOME_X', 'UNSET'], (k) => (k === 'HOME_X' ? 'h' : undefined))).toEqual({
      A: '1',
      B: '',
      C: 'x=y',
      HOME_X: 'h',
      UNSET: null,
    });
    expect(thrown(() => parseBuildArgs(['=1'], () => undefined)).code).toBe('USAGE');
  });
});

describe('which services are built', () => {
  const compose =
    'services:\n  built:\n    build: .\n  present:\n    build: .\n  always:\n    build: .\n    pull_policy: build\n  pulled:\n    image: busybox\n';
  it('missing: absent images and pull_policy build; always: every build; never: none, and a missing image is an error naming the service', async () => {
    const proj = await load(compose);
    const all = Object.values(proj.services);
    const ctx = { root: '/nonexistent', name: 'shop', images: store({ 'shop-present': ID_OLD, 'shop-always': ID_OLD }) };
    expect(servicesToBuild(ctx, all, 'missing').map((s) => s.name)).toEqual(['always', 'built']);
    expect(servicesToBuild(ctx, all, 'always').map((s) => s.name)).toEqual(['always', 'built', 'present']);
    expect(servicesToBuild(ctx, all, 'never')).toEqual([]);
    const e = thrown(() => refuseMissingBuiltImages(ctx, all));
    expect(e.message).toBe('--no-build was given and the image of service "built" (shop-built) is not in the local store');
    expect(() => refuseMissingBuiltImages(ctx, [proj.services.present!, proj.services.pulled!])).not.toThrow();
  });
});

describe('which images are pulled', () => {
  it('as Compose: build-only services never; buildable ones unless they will be built (--build, pull_policy build/never, --ignore-buildable)', async () => {
    const proj = await load(
      'services:\n  built:\n    build: .\n  both:\n    image: example/both:1\n    build: .\n  forced:\n    image: example/forced:1\n    build: .\n    pull_policy: build\n  plain:\n    image: busybox\n',
    );
    const all = Object.values(proj.services);
    const rt = { images: store({ busybox: ID_OLD }) } as never;
    const names = (m: Map<string, { name: string }[]>) => [...m.values()].flat().map((s) => s.name);
    expect(names(imagesToPull(rt, all, 'missing'))).toEqual(['both']);
    expect(names(imagesToPull(rt, all, 'always'))).toEqual(['both', 'plain']);
    expect(names(imagesToPull(rt, all, 'always', { buildAll: true }))).toEqual(['plain']);
    expect(names(imagesToPull(rt, all, 'always', { ignoreBuildable: true }))).toEqual(['plain']);
    // never: a buildable service is built instead; one that is not is an error
    expect(names(imagesToPull(rt, [proj.services.both!], 'never'))).toEqual([]);
  });
});

describe('the plan after a rebuild', () => {
  it('recreates a built service whose image id changed, saying "image changed", and leaves the others', async () => {
    const proj = await load('services:\n  app:\n    build: .\n  db:\n    image: busybox\n    command: sleep 1000\n');
    const images = store({ 'shop-app': ID_NEW, 'docker.io/library/busybox:latest': ID_OLD, busybox: ID_OLD });
    const desired = desiredProject(proj, (s) => images.get(s.image ?? `shop-${s.name}`));
    expect(desired.services.find((s) => s.name === 'app')!.image).toBe('shop-app');
    const observed = Object.values(proj.services).map((s) => ({
      id: `shop-${s.name}-1`,
      name: `shop-${s.name}-1`,
      service: s.name,
      number: 1,
      oneOff: false,
      configHash: configHash(s),
      definition: hashableDefinition(s),
      imageDigest: ID_OLD,
      state: 'running' as const,
    }));
    const p = plan(desired, observed);
    const app = p.actions.find((a) => a.service === 'app')!;
    expect(app.kind).toBe('recreate');
    expect(app.reason).toBe('image changed from sha256:111111111111 to sha256:222222222222');
    expect(p.actions.find((a) => a.service === 'db')!.kind).toBe('noop');
  });
});
