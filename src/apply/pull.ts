/**
 * Pulling services' images before `up`/`run`/`pull`, as Docker Compose v2 does: each service's
 * pull_policy wins over the command's policy; a service that can be built (`build:`) is not
 * pulled when it will be built anyway (`up --build`, pull_policy build or never,
 * `pull --ignore-buildable`), and when its pull fails the failure is a warning: it is built
 * instead.
 */
import { TscError } from '../common/errors.js';
import type { Service } from '../compose/index.js';
import { PullProgress, type PullEvent } from '../images/index.js';
import type { Progress, PullPolicy } from './options.js';
import type { ProjectRuntime } from './runtime.js';

export interface PullImagesOptions {
  /** `up --build`: services with `build:` are built, never pulled */
  buildAll?: boolean;
  /** `pull --ignore-buildable`: services with `build:` are not pulled */
  ignoreBuildable?: boolean;
}

/** The images `pullImages` would pull: ref → services using it. */
export function imagesToPull(rt: ProjectRuntime, services: Service[], policy: PullPolicy, opts: PullImagesOptions = {}): Map<string, Service[]> {
  const refs = new Map<string, Service[]>();
  for (const s of services) {
    if (!s.image) continue;
    const p = (s.pull_policy as PullPolicy | undefined) ?? policy;
    const present = rt.images.get(s.image) !== undefined;
    if (s.build && (opts.buildAll || opts.ignoreBuildable || p === 'never' || p === 'build')) continue;
    if (p === 'never' || p === 'build') {
      if (!present) {
        throw new TscError('IMAGE_NOT_FOUND', `image "${s.image}" of service "${s.name}" is not in the local store and the pull policy is "${p}"`, {
          hint: 'load it with `tscompose image load -i FILE` or allow pulling with `--pull missing`',
        });
      }
      continue;
    }
    if (p === 'missing' && present) continue;
    refs.set(s.image, [...(refs.get(s.image) ?? []), s]);
  }
  return refs;
}

/** Pulls the images of `services` according to the policy (each service's pull_policy wins). */
export async function pullImages(rt: ProjectRuntime, services: Service[], policy: PullPolicy, progress: Progress, opts: PullImagesOptions = {}): Promise<void> {
  await Promise.all(
    [...imagesToPull(rt, services, policy, opts)].map(async ([ref, svcs]) => {
      const id = `pull:${ref}`;
      progress.begin(id, `Image ${ref}`);
      const status = new PullProgress();
      try {
        await rt.images.pull(ref, {
          onProgress: (ev: PullEvent) => progress.update(id, status.update(ev)),
        });
        progress.done(id, 'Pulled');
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        progress.fail(id, message);
        const names = svcs.map((s) => s.name).join(', ');
        if (svcs.every((s) => s.build)) {
          // Compose: "image can be built, so we can ignore pull failure"
          progress.warn(
            `pulling image "${ref}" for service ${names} failed (${message}); it can be built instead (\`tscompose build ${names.replace(/, /g, ' ')}\`)`,
          );
          return;
        }
        if (err instanceof TscError) {
          throw new TscError(err.code, `pulling image "${ref}" for service ${names}: ${err.message}`, { hint: err.hint, cause: err });
        }
        throw err;
      }
    }),
  );
}
