import { statSync } from 'node:fs';
import { distEntry } from '../common/paths.js';

function mtime(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

/**
 * The file a container's init or exec stage runs from: the single-file bundle made by
 * `npm run build` (scripts/bundle-init.mjs), unless the compiled module is newer (a later plain
 * `tsc` build), so a stale bundle never runs.
 */
export function initStageEntry(stage: 'main' | 'exec'): string {
  const bundle = distEntry(`engine/init/${stage}.cjs`);
  const module = distEntry(`engine/init/${stage}.js`);
  return mtime(bundle) >= mtime(module) && mtime(bundle) > 0 ? bundle : module;
}
