/** A service's image in the local store: its reference, and a precise error when it is missing. */
import { TscError } from '../common/errors.js';
import type { Service } from '../compose/index.js';
import type { ImageRecord, ImageStore } from '../images/index.js';

/**
 * The image a service runs: its `image:`, else the name Compose v2 gives a built image,
 * `<project>-<service>` (a service with neither is refused by the loader).
 */
export function serviceImageRef(s: Service, project: string): string {
  return s.image ?? `${project}-${s.name}`;
}

export function localImage(images: ImageStore, s: Service, project: string): ImageRecord | undefined {
  return images.get(serviceImageRef(s, project));
}

export function requireImage(images: ImageStore, s: Service, project: string): ImageRecord {
  const img = localImage(images, s, project);
  if (!img) {
    const ref = serviceImageRef(s, project);
    throw new TscError('IMAGE_NOT_FOUND', `image "${ref}" of service "${s.name}" is not in the local store`, {
      hint: s.build
        ? `build it with \`tscompose build ${s.name}\` (or \`up --build\`)`
        : 'run `tscompose pull` (or `up --pull missing`), or load it with `tscompose image load -i FILE`',
    });
  }
  return img;
}
