/**
 * Building the images of services with `build:`, as Docker Compose v2 decides it: `up` builds a
 * service whose image is missing (or whose pull_policy is `build`), `up --build` and `build`
 * build every service in scope that has a build section, `up --no-build` never builds and
 * refuses a missing image. Every request is prepared (and refused, when it asks for what the
 * builder cannot do) before the first build starts; builds then run two at a time, and the
 * first failure aborts the others and is thrown, so `up` stops before any container changes.
 */
import { buildImage, type BuildEvent, type BuildResult } from '../build/index.js';
import { TscError } from '../common/errors.js';
import type { Service } from '../compose/index.js';
import type { ImageStore } from '../images/index.js';
import { buildRequestFor, type BuildOverrides, type PreparedBuild } from './build-request.js';
import { serviceImageRef } from './service-image.js';

export { buildRequestFor, parseBuildArgs, type BuildOverrides, type PreparedBuild } from './build-request.js';

/** `missing`: build when the image is not in the store (or pull_policy is build); `always`: `up --build`; `never`: `up --no-build`. */
export type BuildMode = 'missing' | 'always' | 'never';

/** Builds of several services at once: a small host builds two at a time. */
export const BUILD_CONCURRENCY = 2;

/** What a build shows as it goes (the CLI renders it: listr2 on a terminal, plain lines otherwise). */
export interface BuildReporter {
  begin(service: string, image: string): void;
  event(service: string, e: BuildEvent): void;
  done(service: string, result: BuildResult): void;
  fail(service: string, err: unknown): void;
  warn(text: string): void;
}

export const silentBuildReporter: BuildReporter = {
  begin() {},
  event() {},
  done() {},
  fail() {},
  warn() {},
};

/** What building needs of the runtime (ProjectRuntime provides it). */
export interface BuildContext {
  readonly root: string;
  readonly name: string;
  readonly images: ImageStore;
}

/** The services of `services` that `mode` builds, in the given order. */
export function servicesToBuild(ctx: BuildContext, services: Service[], mode: BuildMode): Service[] {
  if (mode === 'never') return [];
  return services.filter((s) => s.build && (mode === 'always' || s.pull_policy === 'build' || !ctx.images.get(serviceImageRef(s, ctx.name))));
}

/** `up --no-build`: a service with `build:` whose image is not in the store is an error naming it. */
export function refuseMissingBuiltImages(ctx: BuildContext, services: Service[]): void {
  const missing = services.filter((s) => s.build && !ctx.images.get(serviceImageRef(s, ctx.name)));
  if (missing.length === 0) return;
  const list = missing.map((s) => `"${s.name}" (${serviceImageRef(s, ctx.name)})`).join(', ');
  const what = missing.length === 1 ? `the image of service ${list} is` : `the images of services ${list} are`;
  throw new TscError('IMAGE_NOT_FOUND', `--no-build was given and ${what} not in the local store`, {
    hint: `build it with \`tscompose build ${missing.map((s) => s.name).join(' ')}\`, or run up without --no-build`,
  });
}

/** Builds the images of `services` (each must have `build:`); resolves when all are built. */
export async function buildServices(ctx: BuildContext, services: Service[], over: BuildOverrides, reporter: BuildReporter): Promise<BuildResult[]> {
  const prepared: PreparedBuild[] = services.map((s) => buildRequestFor(ctx.name, s, over));
  for (const p of prepared) for (const w of p.warnings) reporter.warn(w);
  const abort = new AbortController();
  const results: BuildResult[] = [];
  let failure: { err: unknown } | undefined;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (!failure && next < prepared.length) {
      const p = prepared[next++]!;
      reporter.begin(p.service, p.request.tags[0]!);
      try {
        const r = await buildImage(p.request, {
          root: ctx.root,
          images: ctx.images,
          signal: abort.signal,
          onEvent: (e) => reporter.event(p.service, e),
        });
        results.push(r);
        reporter.done(p.service, r);
      } catch (err) {
        // a build aborted because another one failed is not a failure of its own
        if (failure && abort.signal.aborted) {
          reporter.fail(p.service, 'cancelled: the build of another service failed');
          continue;
        }
        failure ??= { err };
        reporter.fail(p.service, err);
        abort.abort();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(BUILD_CONCURRENCY, prepared.length) }, worker));
  if (failure) throw failure.err;
  return results;
}
