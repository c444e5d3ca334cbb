#!/usr/bin/env node
// Runs the bundled CLI (one entry file and the invoked verb's chunks, made by `npm run build`)
// unless the tsc output is newer, as src/common/paths.ts's bundledEntry() decides for the
// supervisor and the init stage.
import { statSync } from 'node:fs';

const at = (rel) => new URL(rel, import.meta.url);
const mtime = (url) => {
  try {
    return statSync(url).mtimeMs;
  } catch {
    return -1;
  }
};
const bundle = at('../dist/bundle/cli.mjs');
const entry = mtime(bundle) > 0 && mtime(bundle) >= mtime(at('../dist/cli/main.js')) ? bundle : at('../dist/cli/main.js');
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
