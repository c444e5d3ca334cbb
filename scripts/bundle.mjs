#!/usr/bin/env node
// Bundles the processes tscompose starts, so each loads one or a few files instead of a
// module graph of a few hundred (a Node process spends most of a short life loading modules):
// - dist/engine/init/{main,exec}.cjs: the in-container init and exec stages, one CommonJS
//   file each (~50 ms less CPU per container start on a 2-core machine);
// - dist/bundle/{cli,supervisor}.mjs: the CLI and the supervisor, ESM with code splitting, so
//   the CLI still loads only the invoked verb's chunk and shares chunks with the supervisor.
// koffi stays external (a native module). The entry points prefer a bundle only while it is
// newer than the tsc output it was made from (see src/common/paths.ts), so a later plain
// `tsc` build never runs stale code.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const common = { bundle: true, platform: 'node', target: 'node20', external: ['koffi'], sourcemap: true, logLevel: 'warning' };

rmSync(path.join(root, 'dist/bundle'), { recursive: true, force: true }); // no stale chunks
await Promise.all([
  build({
    ...common,
    entryPoints: ['src/engine/init/main.ts', 'src/engine/init/exec.ts'].map((p) => path.join(root, p)),
    outdir: path.join(root, 'dist/engine/init'),
    outExtension: { '.js': '.cjs' },
    format: 'cjs',
  }),
  build({
    ...common,
    entryPoints: { cli: path.join(root, 'src/cli/main.ts'), supervisor: path.join(root, 'src/supervisor/main.ts') },
    outdir: path.join(root, 'dist/bundle'),
    outExtension: { '.js': '.mjs' },
    format: 'esm',
    splitting: true,
    chunkNames: '[name]-[hash]', // beside the entries: src/common/paths.ts finds the package root two levels up
    // CommonJS dependencies bundled into ESM call require() for Node's built-ins
    banner: { js: "import { createRequire as __tscRequire } from 'node:module'; const require = __tscRequire(import.meta.url);" },
  }),
]);
