/**
 * Getting the images of the services a command will run, with progress: pull what the policy
 * says, then build what `up`/`run` build (a missing image of a service with `build:`, every one
 * with `--build` or pull_policy build, none with `--no-build`). Shared by `up` and `run`.
 */
import { buildServices, refuseMissingBuiltImages, servicesToBuild, type BuildMode, type BuildOverrides } from '../apply/build.js';
import type { ProjectRuntime } from '../apply/runtime.js';
import { imagesToPull, pullImages, type PullPolicy } from '../apply/up.js';
import type { Service } from '../compose/index.js';
import { createBuildReporter } from './build-progress.js';
import { createProgress } from './progress.js';

export interface EnsureImagesOptions {
  pull: PullPolicy;
  build: BuildMode;
  overrides?: BuildOverrides;
  quietPull?: boolean;
  quietBuild?: boolean;
}

/** `--build` → always, `--no-build` → never, neither → a missing image is built (Compose's default). */
export function buildModeFrom(f: { build?: boolean }): BuildMode {
  return f.build === true ? 'always' : f.build === false ? 'never' : 'missing';
}

/** Pulls, then builds, the images `services` need; throws before any container is touched. */
export async function ensureImages(rt: ProjectRuntime, services: Service[], opts: EnsureImagesOptions): Promise<void> {
  const pullOpts = { buildAll: opts.build === 'always' };
  const refs = [...imagesToPull(rt, services, opts.pull, pullOpts).keys()];
  if (refs.length) {
    const pp = createProgress(
      refs.map((r) => ({ id: `pull:${r}`, title: `Image ${r}` })),
      { quiet: opts.quietPull },
    );
    try {
      await pullImages(rt, services, opts.pull, pp, pullOpts);
    } finally {
      await pp.finish();
    }
  }
  if (opts.build === 'never') return refuseMissingBuiltImages(rt, services);
  const toBuild = servicesToBuild(rt, services, opts.build);
  if (toBuild.length === 0) return;
  const reporter = createBuildReporter(
    toBuild.map((s) => s.name),
    { quiet: opts.quietBuild },
  );
  try {
    await buildServices(rt, toBuild, opts.overrides ?? {}, reporter);
  } finally {
    await reporter.finish();
  }
}
