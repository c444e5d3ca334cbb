/** A service's image in the local store: its reference, and a precise error when it is missing. */
import { TscError } from '../common/errors.js';
import type { Service } from '../compose/index.js';
import type { ImageRecord, ImageStore } from '../images/index.js';

export function serviceImageRef(s: Service): string {
  if (!s.image) {
    throw new TscError('SPEC_UNSUPPORTED', `service "${s.name}" has no image: building images (build:) is not supported by tscompose yet`, {
      hint: 'build the image elsewhere and load it with `tscompose image load -i FILE`, then set `image:`',
    });
  }
  return s.image;
}

export function localImage(images: ImageStore, s: Service): ImageRecord | undefined {
  return images.get(serviceImageRef(s));
}

export function requireImage(images: ImageStore, s: Service): ImageRecord {
  const img = localImage(images, s);
  if (!img) {
    throw new TscError('IMAGE_NOT_FOUND', `image "${s.image}" of service "${s.name}" is not in the local store`, {
      hint: 'run `tscompose pull` (or `up --pull missing`), or load it with `tscompose image load -i FILE`',
    });
  }
  return img;
}
