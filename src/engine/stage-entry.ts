import { bundledEntry } from '../common/paths.js';

/** The file a container's init or exec stage runs from (the single-file bundle when it is current). */
export function initStageEntry(stage: 'main' | 'exec'): string {
  return bundledEntry(`engine/init/${stage}.cjs`, `engine/init/${stage}.js`);
}
