#!/usr/bin/env -S node --
// The `--` in the line above matters: Node 20 treats `--env-file` anywhere on its command line
// as its own option, even after the script name (nodejs/node#54232), so `tscompose --env-file
// my.env` would make Node load that file into tscompose's own environment (a NODE_OPTIONS in it
// would run code inside tscompose, as root). Arguments after `--` are the script's alone. Run
// tscompose as `tscompose` or `bin/tscompose.js`, not as `node bin/tscompose.js`.
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
