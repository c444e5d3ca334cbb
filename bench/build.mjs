#!/usr/bin/env node
// Image builds side by side: `tscompose build` against `docker build` (dockerd 20.10, BuildKit and
// the legacy builder), `podman build` (podman 4.3) and `buildah bud` (buildah 1.28), on the same
// small Dockerfile (FROM busybox, 3 RUN, 2 COPY, ENV, CMD) and the same context, each from the
// same busybox image loaded offline. Per tool: a cold build (no build cache, only busybox in the
// tool's store) and a cached rebuild of the same inputs, each timed as the whole command a user
// runs. Tools take turns within each repetition (round-robin, the first tool rotates), medians of
// --runs repetitions. Prints a markdown table.
//
// Run it through `bench/run.sh --build`, which installs the peers and enters a private network
// namespace holding only loopback first. Directly (inside such a namespace, as root, after
// `npm run build`):
//
//   node bench/build.mjs [--runs N] [--tools tscompose,docker-buildkit,docker-legacy,podman,buildah] [--out FILE]
//
// RUN steps get network "none" from every tool. Everything lives under one temp dir
// (/tmp/tsc-bench-XXXX): tscompose's state roots, dockerd's data and exec roots, podman's and
// buildah's storage; all of it is removed at the end, also on failure, and dockerd is stopped.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  busyboxArchives,
  fmt,
  have,
  hostPaths,
  log,
  must,
  peerCgroups,
  repo,
  rotate,
  run,
  stats,
  tail,
  privateNetns,
  removeLeftovers,
  runThenClean,
} from './harness.mjs';
import { containersConfig, crunNote, startDockerd } from './peers.mjs';

const argv = process.argv.slice(2);
const opt = (name, def) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : def);
const RUNS = Number(opt('--runs', '5'));
const TOOLS = opt('--tools', 'tscompose,docker-buildkit,docker-legacy,podman,buildah').split(',');
const OUT = opt('--out', '');

const tmp = mkdtempSync('/tmp/tsc-bench-');
const cgroupsBefore = new Set(peerCgroups());
const hostPathsBefore = hostPaths();
const cleanups = [];
const notes = [];
const TAG = 'bench/app:1';
const BUILD_TIMEOUT_MS = 300_000;

// ------------------------------------------------------------------ the build context

const DOCKERFILE = [
  'FROM busybox',
  'RUN mkdir -p /srv/app && echo one > /srv/app/one',
  'COPY app.txt /srv/app/',
  'RUN wc -l /srv/app/app.txt > /srv/app/count',
  'ENV MODE=bench',
  'COPY conf.txt /etc/app.conf',
  'RUN rm /srv/app/one && echo done',
  'CMD ["cat", "/srv/app/count"]',
].join('\n');

const ctx = path.join(tmp, 'ctx');
mkdirSync(ctx);
writeFileSync(path.join(ctx, 'app.txt'), 'app\n'.repeat(1000));
writeFileSync(path.join(ctx, 'conf.txt'), 'conf\n');
writeFileSync(path.join(ctx, 'Dockerfile'), DOCKERFILE + '\n');
writeFileSync(path.join(ctx, 'compose.yaml'), `services:\n  app:\n    image: ${TAG}\n    build:\n      context: .\n      network: none\n`);

// ------------------------------------------------------------------ tools

let archives; // { oci, docker }: the project's busybox image (busyboxArchives)
const tscBin = path.join(repo, 'bin/tscompose.js');
const firstLine = (r) => r.stdout.split('\n')[0].trim();

/**
 * Every tool: setup() once (throws with the reason when it cannot run here), reset() before each
 * cold build (empty build cache, busybox in the store; not timed), build() (timed), imageId(),
 * version() (timed: the floor of any command of the tool, its start and, for docker, one request to
 * the daemon).
 */
function dockerTool(label, buildkit) {
  return {
    label,
    command: `DOCKER_BUILDKIT=${buildkit} docker build --network none -t ${TAG} .`,
    async setup() {
      docker.env ??= (await startDockerd(path.join(tmp, 'docker'), archives.docker, cleanups)).env;
    },
    reset() {
      const env = docker.env;
      // Images with children go only once their children have gone: a few rounds.
      const images = () => run('/usr/bin/docker', ['images', '-aq'], { env }).stdout.split('\n').filter(Boolean);
      for (let i = 0; i < 5 && images().length; i++) run('/usr/bin/docker', ['rmi', '-f', ...new Set(images())], { env });
      if (images().length) throw new Error(`docker rmi left ${images().length} images`);
      must('/usr/bin/docker', ['builder', 'prune', '-af'], { env });
      must('/usr/bin/docker', ['load', '-q', '-i', archives.docker], { env });
    },
    build() {
      return run('/usr/bin/docker', ['build', '--network', 'none', '-t', TAG, '.'], {
        env: { ...docker.env, DOCKER_BUILDKIT: String(buildkit) },
        cwd: ctx,
        timeoutMs: BUILD_TIMEOUT_MS,
      });
    },
    imageId: () => firstLine(run('/usr/bin/docker', ['images', '-q', '--no-trunc', TAG], { env: docker.env })),
    version: () => run('/usr/bin/docker', ['version'], { env: docker.env }),
  };
}
const docker = { env: undefined };

/** podman and buildah: each with its own storage, so neither sees the other's cache. */
function containersTool(name) {
  const state = { env: undefined };
  const bin = name;
  const load = () => {
    if (name === 'podman') return must('podman', ['load', '-q', '-i', archives.oci], { env: state.env });
    const id = firstLine(must('buildah', ['pull', '-q', `oci-archive:${archives.oci}`], { env: state.env }));
    return must('buildah', ['tag', id, 'docker.io/library/busybox:latest'], { env: state.env });
  };
  return {
    label: name === 'podman' ? 'podman build' : 'buildah bud',
    command: name === 'podman' ? `podman build --network none -t ${TAG} .` : `buildah bud --layers --network none -t ${TAG} .`,
    async setup() {
      if (!have(bin)) throw new Error(`${bin} is not installed (Debian package ${bin})`);
      const conf = containersConfig(path.join(tmp, name));
      state.env = conf.env;
      if (name === 'podman') notes.push(`podman, buildah: ${conf.note}.`);
      cleanups.push(async () => {
        run(bin, ['rm', '-a', ...(name === 'podman' ? ['-f'] : [])], { env: state.env });
        run(bin, ['rmi', '-af'], { env: state.env });
        if (name === 'podman') run('podman', ['system', 'reset', '-f'], { env: state.env });
      });
      load();
      if (name === 'podman') notes.push(crunNote(state.env));
    },
    reset() {
      run(bin, ['rm', '-a', ...(name === 'podman' ? ['-f'] : [])], { env: state.env });
      must(bin, ['rmi', '-af'], { env: state.env });
      load();
    },
    build() {
      // buildah bud keeps no per-step cache unless asked (--layers); podman build has it on.
      const args = name === 'podman' ? ['build'] : ['bud', '--layers'];
      return run(bin, [...args, '--network', 'none', '-t', TAG, '.'], { env: state.env, cwd: ctx, timeoutMs: BUILD_TIMEOUT_MS });
    },
    imageId: () => firstLine(run(bin, ['images', '-q', '--no-trunc', TAG], { env: state.env })),
    version: () => run(bin, ['version'], { env: state.env }),
  };
}

const tscState = { root: '', n: 0 };
const tools = {
  tscompose: {
    label: 'tscompose build',
    command: 'tscompose build (compose.yaml: build: {context: ., network: none})',
    async setup() {},
    reset() {
      // A fresh state root per cold build: its image store holds busybox and nothing else.
      if (tscState.root) rmSync(tscState.root, { recursive: true, force: true });
      tscState.root = path.join(tmp, 'tscompose', `root-${tscState.n++}`);
      must(tscBin, ['image', 'load', '-i', archives.oci], { env: { TSCOMPOSE_ROOT: tscState.root } });
    },
    version: () => run(tscBin, ['version']),
    build: () => run(tscBin, ['build'], { env: { TSCOMPOSE_ROOT: tscState.root }, cwd: ctx, timeoutMs: BUILD_TIMEOUT_MS }),
    imageId() {
      const r = run(tscBin, ['image', 'inspect', TAG], { env: { TSCOMPOSE_ROOT: tscState.root } });
      try {
        return JSON.parse(r.stdout)[0].id;
      } catch {
        return '';
      }
    },
  },
  'docker-buildkit': dockerTool('docker build (BuildKit)', 1),
  'docker-legacy': dockerTool('docker build (legacy builder)', 0),
  podman: containersTool('podman'),
  buildah: containersTool('buildah'),
};

// ------------------------------------------------------------------ measurement

const results = {}; // results[tool] = { cold: [], cached: [], version: [], errors: [] }

function measure(t, rep) {
  const tool = tools[t];
  const r = (results[t] ??= { cold: [], cached: [], version: [], errors: [] });
  const fail = (msg) => {
    r.errors.push(msg);
    log(`rep ${rep + 1} ${t}: ${msg}`);
  };
  const v = tool.version();
  if (v.ok) r.version.push(v.secs);
  try {
    tool.reset();
  } catch (e) {
    fail(`reset before the cold build failed: ${tail(e.message, 300)}`);
    return;
  }
  const cold = tool.build();
  if (!cold.ok) {
    fail(`cold build failed: ${tail(cold.stderr || cold.stdout || String(cold.error), 300)}`);
    return;
  }
  const coldId = tool.imageId();
  const cached = tool.build();
  const cachedId = tool.imageId();
  log(`rep ${rep + 1} ${t}: cold ${cold.secs.toFixed(2)}s, cached ${cached.secs.toFixed(2)}s${cached.ok ? '' : ' FAILED'}`);
  r.cold.push(cold.secs);
  if (!cached.ok) r.errors.push(`cached rebuild failed: ${tail(cached.stderr || cached.stdout, 300)}`);
  // The same image id proves that the rebuild reused every step.
  else if (!coldId || coldId !== cachedId) r.errors.push(`the rebuild was not fully cached (image ${coldId || '?'} then ${cachedId || '?'})`);
  else r.cached.push(cached.secs);
}

// ------------------------------------------------------------------ report

function table(available) {
  const cell = (xs, t) => {
    if (!available[t].ok) return `not run: ${available[t].reason}`;
    if (!xs.length) return `failed: ${results[t]?.errors[0] ?? 'no result'}`;
    const s = stats(xs);
    return `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;
  };
  const ratio = (key, t) => {
    const a = results.tscompose?.[key];
    const b = results[t]?.[key];
    return a?.length && b?.length ? `${(stats(a).median / stats(b).median).toFixed(2)}×` : '–';
  };
  let md = `| seconds, median (min–max) of ${RUNS} | cold build | cached rebuild | tscompose ÷ tool, cold | tscompose ÷ tool, cached | floor: \`version\` |\n`;
  md += '|---|---|---|---|---|---|\n';
  for (const t of TOOLS) {
    const r = results[t] ?? { cold: [], cached: [], version: [], errors: [] };
    const own = t === 'tscompose';
    md += `| ${tools[t].label} | ${cell(r.cold, t)} | ${cell(r.cached, t)} | ${own ? '1' : ratio('cold', t)} | ${own ? '1' : ratio('cached', t)} | ${cell(r.version, t)} |\n`;
  }
  const failed = TOOLS.filter((t) => results[t]?.errors.length);
  for (const t of failed) notes.push(`${tools[t].label}: ${results[t].errors.length} failed attempt(s): ${results[t].errors[0]}`);
  return md;
}

function versions() {
  const v = [`tscompose ${JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')).version}`, `Node ${process.version}`];
  if (docker.env) v.push(`dockerd ${firstLine(run('/usr/bin/docker', ['version', '--format', '{{.Server.Version}}'], { env: docker.env }))}`);
  for (const [b, args] of [
    ['podman', ['--version']],
    ['buildah', ['--version']],
    ['runc', ['--version']],
  ]) {
    if (have(b))
      v.push(
        firstLine(run(b, args))
          .replace(/ version/, '')
          .replace(/ \(.*/, ''),
      );
  }
  return v.join(', ');
}

const loadavg = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(', ');

// In bench/netns-enter.sh's namespace only (privateNetns): the cleanup ends every process left in it.
const netns = readlinkSync('/proc/self/ns/net');

async function main() {
  if (!privateNetns) throw new Error('not in a private network namespace holding only loopback: run it through bench/run.sh --build');
  for (const t of TOOLS) if (!tools[t]) throw new Error(`--tools: unknown tool ${t} (known: ${Object.keys(tools).join(', ')})`);
  const loadStart = loadavg();
  log(`work dir ${tmp}; runs ${RUNS}; tools ${TOOLS.join(',')}; load average ${loadStart}`);
  archives = busyboxArchives(tmp);
  const available = {};
  for (const t of TOOLS) {
    try {
      await tools[t].setup();
      available[t] = { ok: true };
      log(`${t}: ready`);
    } catch (e) {
      available[t] = { ok: false, reason: tail(e.message, 300) };
      log(`${t}: cannot run here: ${available[t].reason}`);
    }
  }
  const active = TOOLS.filter((t) => available[t].ok);
  for (let rep = 0; rep < RUNS; rep++) for (const t of rotate(active, rep)) measure(t, rep);

  let md = `## Image builds: tscompose vs docker build vs podman build vs buildah bud (${new Date().toISOString()})\n\n`;
  md += `Machine: ${os.cpus().length} CPUs, kernel ${os.release()}; load average (1, 5, 15 min) ${loadStart} at the start, ${loadavg()} at the end. `;
  md += `Versions: ${versions()}. ${RUNS} repetitions, round-robin across tools (the first tool rotates).\n\n`;
  md += table(available);
  md += '\nCommands (each timed as a whole process, from the context directory, output piped):\n\n';
  for (const t of TOOLS) md += `- ${tools[t].label}: \`${tools[t].command}\`\n`;
  md += `\nDockerfile:\n\n\`\`\`dockerfile\n${DOCKERFILE}\n\`\`\`\n\n`;
  notes.unshift(
    "Cold: no build cache; the tool's store holds only busybox (tscompose: a fresh state root with busybox loaded; docker: all images removed, `docker builder prune -af`, busybox loaded again; podman and buildah: `rmi -af`, busybox loaded again). Not timed: that reset, and starting dockerd (once, before the first repetition).",
    'Cached: the same build again at once; it counts only if it gives the same image id as the cold build (every step reused).',
    "Floor: `tscompose version`, `docker version` (client and one request to dockerd), `podman version`, `buildah version`, timed in each repetition just before the tool's builds: what any command of the tool costs before it does any work.",
    'busybox is the project\'s own test image (scripts/build-busybox-image.mjs), loaded into each tool offline; nothing is pulled. Every tool runs RUN with network "none", inside a private network namespace that holds only loopback.',
  );
  md += `Notes:\n${notes.map((n) => `- ${n}`).join('\n')}\n`;
  process.stdout.write(md);
  if (OUT) writeFileSync(OUT, md);
}

/** Stops what this run started: dockerd, podman's and buildah's containers, and any process left in the namespace. */
async function cleanupAll() {
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch (e) {
      log(`cleanup: ${e.message}`);
    }
  }
  for (const d of privateNetns ? readdirSync('/proc') : []) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (readlinkSync(`/proc/${d}/ns/net`) !== netns) continue;
      log(`cleanup: process ${d} (${readFileSync(`/proc/${d}/comm`, 'utf8').trim()}) was left in the namespace; killing it`);
      process.kill(Number(d), 'SIGKILL');
    } catch {
      /* exited meanwhile */
    }
  }
  removeLeftovers(tmp, cgroupsBefore, hostPathsBefore);
}

await runThenClean(main, cleanupAll);
