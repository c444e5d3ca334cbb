import { statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (the folder holding package.json), from src/ or dist/ alike. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Path of a compiled entry point that must run as its own process (the in-container init
 * stage, the supervisor). Always the built file under dist/, so it works from tests that run
 * the TypeScript sources too (the test command builds first).
 */
export function distEntry(rel: string): string {
  return path.join(PACKAGE_ROOT, 'dist', rel);
}

function mtime(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

/**
 * The file to start a process from: the bundle `npm run build` made (scripts/bundle.mjs) of
 * the compiled module, unless the module is newer (a later plain `tsc` build), so a stale
 * bundle never runs. Both paths are relative to dist/.
 */
export function bundledEntry(bundle: string, module: string): string {
  const b = mtime(distEntry(bundle));
  return b > 0 && b >= mtime(distEntry(module)) ? distEntry(bundle) : distEntry(module);
}

/** State root: /var/lib/tscompose unless TSCOMPOSE_ROOT says otherwise (every test sets its own). */
export function stateRoot(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.TSCOMPOSE_ROOT || '/var/lib/tscompose');
}
