#!/usr/bin/env node
// Side-by-side benchmark of tscompose, docker-compose (with dockerd) and podman-compose (with
// podman), on the same busybox image, in one run. Each measurement is taken for every tool in
// turn within the same repetition (round-robin, and the starting tool rotates per repetition),
// so a slow phase of the machine hits all tools alike. Prints a markdown table.
//
// Run it through bench/run.sh, which installs the tools and enters a private network
// namespace first. Directly (already inside such a namespace, as root, after `npx tsc -p .`):
//
//   node bench/compare.mjs [--reps N] [--run-reps N] [--sizes 1,10,30] [--tools tscompose,docker,podman]
//                          [--default-down-sizes 1] [--out FILE] [--no-profile]
//
// Everything it creates lives under one temp dir (/tmp/tsc-bench-XXXX): tscompose's state root,
// dockerd's data and exec roots, podman's storage, network and config files. It removes all of
// it at the end, stops the dockerd it started, and brings every project down even on failure.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  copyFileSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
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
  sleep,
  stats,
  tail,
  removeLeftovers,
  runThenClean,
} from './harness.mjs';
import { containersConfig, crunNote, startDockerd } from './peers.mjs';
import { profileRun, profileUp } from './profile.mjs';

// ------------------------------------------------------------------ options

const argv = process.argv.slice(2);
function opt(name, def) {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : def;
}
const flag = (name) => argv.includes(name);
const REPS = Number(opt('--reps', '2'));
const RUN_REPS = Number(opt('--run-reps', '8'));
const SIZES = opt('--sizes', '1,10,30').split(',').map(Number);
const DEFAULT_DOWN_SIZES = opt('--default-down-sizes', '1').split(',').filter(Boolean).map(Number);
const TOOLS = opt('--tools', 'tscompose,docker,podman').split(',');
const OUT = opt('--out', '');
const PROFILE = !flag('--no-profile');

// ------------------------------------------------------------------ memory

function smapsRollup(pid) {
  try {
    const t = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(t)?.[1] ?? 0);
    return { rss: kb('Rss'), pss: kb('Pss') };
  } catch {
    return null;
  }
}

const myNetns = readlinkSync('/proc/self/ns/net');

/** Processes living in this benchmark's network namespace: [{pid, comm, cmdline}]. */
function processesHere() {
  const out = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readlinkSync(`/proc/${d}/ns/net`) !== myNetns) continue;
      const comm = readFileSync(`/proc/${d}/comm`, 'utf8').trim();
      const cmdline = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0').join(' ').trim();
      out.push({ pid: Number(d), comm, cmdline });
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/** Sums RSS/PSS (KiB) of the processes picked by `groups` (name → predicate). */
function memoryOf(groups) {
  const procs = processesHere();
  const res = {};
  for (const [name, pred] of Object.entries(groups)) {
    let rss = 0;
    let pss = 0;
    let count = 0;
    for (const p of procs) {
      if (!pred(p)) continue;
      const m = smapsRollup(p.pid);
      if (!m) continue;
      rss += m.rss;
      pss += m.pss;
      count++;
    }
    res[name] = { rss, pss, count };
  }
  return res;
}

// ------------------------------------------------------------------ work dir, image, compose files

const cgroupsBefore = new Set(peerCgroups());
const hostPathsBefore = hostPaths();

const tmp = mkdtempSync('/tmp/tsc-bench-');
let archive; // the busybox image, as an OCI archive and a docker-save archive (busyboxArchives)
let dockerArchive;
const notes = [];
const cleanups = [];

function composeSleep(n) {
  let y = 'services:\n';
  for (let i = 1; i <= n; i++) {
    y += `  s${i}:\n    image: busybox:latest\n    command: ["sleep", "3600"]\n`;
  }
  return y;
}

const COMPOSE_RUN = 'services:\n  svc:\n    image: busybox:latest\n    command: ["true"]\n';

// web serves /etc over HTTP; client asks for http://web/passwd until it gets it, then marks the
// moment by touching /out/ok (a bind mount: the file's mtime is the host's clock).
const COMPOSE_DNS = `services:
  web:
    image: busybox:latest
    command: ["httpd", "-f", "-p", "80", "-h", "/etc"]
  client:
    image: busybox:latest
    command:
      - sh
      - -c
      - "until timeout 2 wget -q -O /dev/null http://web/passwd 2>/dev/null; do usleep 10000; done; touch /out/ok; exec sleep 3600"
    volumes:
      - ./out:/out
`;

function projectDir(tool, name, yaml) {
  const dir = path.join(tmp, 'projects', tool, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'compose.yaml'), yaml);
  return dir;
}

// ------------------------------------------------------------------ tools

const tscRoot = path.join(tmp, 'tscompose');
const node = process.execPath;
const tscBin = path.join(repo, 'bin/tscompose.js');

/** Every tool exposes the same verbs; `available` is false with a reason when it cannot run here. */
const tools = {
  tscompose: {
    label: 'tscompose',
    env: { TSCOMPOSE_ROOT: tscRoot },
    available: true,
    reason: '',
    compose(dir, project, args) {
      return run(node, [tscBin, '-p', project, '-f', path.join(dir, 'compose.yaml'), ...args], { env: this.env, cwd: dir });
    },
    running(dir, project) {
      const r = this.compose(dir, project, ['ps', '--format', 'json']);
      try {
        // one JSON object per line, as `docker compose ps --format json` prints
        if (!r.ok) return -1;
        return r.stdout
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l))
          .filter((c) => c.State === 'running').length;
      } catch {
        return -1;
      }
    },
    runRm() {
      const dir = projectDir('tscompose', 'run', COMPOSE_RUN);
      return this.compose(dir, 'tscbrun', ['run', '--rm', 'svc', 'true']);
    },
    afterRunRm() {
      const dir = path.join(tmp, 'projects', 'tscompose', 'run');
      this.compose(dir, 'tscbrun', ['down', '-t', '0']);
    },
    memoryGroups: () => ({
      supervisor: (p) => p.comm === 'node' && /supervisor(\/main\.js|\.mjs)/.test(p.cmdline) && p.cmdline.includes(tscRoot),
      'other tscompose processes': (p) => p.comm === 'node' && p.cmdline.includes(tscRoot) && !/supervisor(\/main\.js|\.mjs)/.test(p.cmdline),
    }),
    async setup() {
      must(node, [tscBin, 'image', 'load', '-i', archive], { env: this.env });
    },
    async teardown() {},
  },

  docker: {
    label: 'docker-compose',
    env: {},
    available: false,
    reason: 'not set up',
    compose(dir, project, args) {
      return run('docker-compose', ['-p', project, '-f', path.join(dir, 'compose.yaml'), ...args], { env: this.env, cwd: dir });
    },
    running(_dir, project) {
      const r = run('/usr/bin/docker', ['ps', '-q', '--filter', `label=com.docker.compose.project=${project}`], { env: this.env });
      return r.ok ? r.stdout.split('\n').filter(Boolean).length : -1;
    },
    runRm() {
      return run('/usr/bin/docker', ['run', '--rm', 'busybox:latest', 'true'], { env: this.env });
    },
    afterRunRm() {},
    memoryGroups: () => ({
      'containerd-shim (all)': (p) => p.comm.startsWith('containerd-shim'),
      dockerd: (p) => p.comm === 'dockerd',
      containerd: (p) => p.comm === 'containerd',
      'docker-proxy': (p) => p.comm === 'docker-proxy',
    }),
    async setup() {
      if (!have('docker-compose')) throw new Error('docker-compose is not installed (Debian package docker-compose)');
      this.env = (await startDockerd(path.join(tmp, 'docker'), dockerArchive, cleanups)).env;
    },
    async teardown() {
      // Remove whatever is left (a failed measurement), then stop the daemon.
      const ids = run('/usr/bin/docker', ['ps', '-aq'], { env: this.env }).stdout.split('\n').filter(Boolean);
      if (ids.length) run('/usr/bin/docker', ['rm', '-f', ...ids], { env: this.env });
      run('/usr/bin/docker', ['network', 'prune', '-f'], { env: this.env });
    },
  },

  podman: {
    label: 'podman-compose',
    env: {},
    available: false,
    reason: 'not set up',
    compose(dir, project, args) {
      return run('podman-compose', ['-p', project, '-f', path.join(dir, 'compose.yaml'), ...args], { env: this.env, cwd: dir });
    },
    running(_dir, project) {
      const r = run('podman', ['ps', '-q', '--filter', `label=io.podman.compose.project=${project}`], { env: this.env });
      return r.ok ? r.stdout.split('\n').filter(Boolean).length : -1;
    },
    runRm() {
      return run('podman', ['run', '--rm', 'busybox:latest', 'true'], { env: this.env });
    },
    afterRunRm() {},
    memoryGroups: () => ({
      'conmon (all)': (p) => p.comm === 'conmon',
      'aardvark-dns': (p) => p.comm === 'aardvark-dns',
      netavark: (p) => p.comm === 'netavark',
    }),
    async setup() {
      for (const b of ['podman', 'podman-compose']) {
        if (!have(b)) throw new Error(`${b} is not installed (Debian packages podman, podman-compose)`);
      }
      const conf = containersConfig(path.join(tmp, 'podman'));
      notes.push(`podman: ${conf.note}.`);
      this.env = conf.env;
      cleanups.push(async () => {
        run('podman', ['rm', '-af', '-t', '0'], { env: this.env });
        run('podman', ['network', 'prune', '-f'], { env: this.env });
        run('podman', ['system', 'reset', '-f'], { env: this.env });
      });
      must('podman', ['load', '-i', archive], { env: this.env });
      notes.push(crunNote(this.env));
    },
    async teardown() {
      run('podman', ['rm', '-af', '-t', '0'], { env: this.env });
      run('podman', ['network', 'prune', '-f'], { env: this.env });
    },
  },
};

// ------------------------------------------------------------------ measurements

/** results[key][tool] = { values: number[], errors: string[] } */
const results = {};
const memResults = {}; // memResults[N][tool] = [{groups, totalRss, totalPss}]
function record(key, tool, value, error) {
  results[key] ??= {};
  results[key][tool] ??= { values: [], errors: [] };
  if (error) results[key][tool].errors.push(error);
  else results[key][tool].values.push(value);
}

function order(rep) {
  return rotate(
    TOOLS.filter((t) => tools[t].available),
    rep,
  );
}

function projectName(tool, what) {
  return `tscb${what}${tool[0]}`;
}

/** An exit status of 0 is not enough (podman-compose returns 0 when containers fail to start). */
function upError(tool, dir, project, up, n) {
  if (!up.ok) return tail(up.stderr || up.stdout);
  const running = tool.running(dir, project);
  if (running !== n) return `${running} of ${n} containers running after up: ${tail(up.stderr || up.stdout, 300)}`;
  return null;
}

let lastForward = null;
/** Records every change of net.ipv4.ip_forward inside the private namespace, with the step that made it. */
function checkForward(step) {
  const v = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
  if (lastForward !== null && v !== lastForward) notes.push(`net.ipv4.ip_forward inside the private namespace changed ${lastForward} → ${v} during: ${step}.`);
  lastForward = v;
}

function down(tool, dir, project, args = ['down', '-t', '0']) {
  const r = tools[tool].compose(dir, project, args);
  return r;
}

async function measureUpDown(rep) {
  for (const n of SIZES) {
    for (const t of order(rep)) {
      const tool = tools[t];
      const dir = projectDir(t, `n${n}`, composeSleep(n));
      const project = projectName(t, `n${n}`);
      const up = tool.compose(dir, project, ['up', '-d']);
      const upErr = upError(tool, dir, project, up, n);
      record(`up -d, N=${n}`, t, up.secs, upErr);
      checkForward(`${t} up -d N=${n}`);
      if (!upErr && (n === 10 || n === 30)) {
        await sleep(1000); // let daemons settle after the last start
        const groups = memoryOf(tool.memoryGroups());
        const totalRss = Object.values(groups).reduce((a, g) => a + g.rss, 0);
        const totalPss = Object.values(groups).reduce((a, g) => a + g.pss, 0);
        memResults[n] ??= {};
        memResults[n][t] ??= [];
        memResults[n][t].push({ groups, totalRss, totalPss });
      }
      const dn = down(t, dir, project);
      record(`down -t 0, N=${n}`, t, dn.secs, dn.ok ? null : tail(dn.stderr || dn.stdout));
      if (!dn.ok) await tool.teardown();
      log(`rep ${rep + 1} N=${n} ${t}: up ${up.secs.toFixed(2)}s${up.ok ? '' : ' FAILED'}, down -t 0 ${dn.secs.toFixed(2)}s${dn.ok ? '' : ' FAILED'}`);
    }
  }
  for (const n of DEFAULT_DOWN_SIZES) {
    for (const t of order(rep)) {
      const tool = tools[t];
      const dir = projectDir(t, `n${n}`, composeSleep(n));
      const project = projectName(t, `n${n}`);
      const up = tool.compose(dir, project, ['up', '-d']);
      const upErr = upError(tool, dir, project, up, n);
      if (upErr) {
        record(`down (default timeout), N=${n}`, t, 0, `up failed: ${upErr}`);
        await tool.teardown();
        continue;
      }
      const dn = down(t, dir, project, ['down']);
      record(`down (default timeout), N=${n}`, t, dn.secs, dn.ok ? null : tail(dn.stderr || dn.stdout));
      if (!dn.ok) await tool.teardown();
      log(`rep ${rep + 1} N=${n} ${t}: default down ${dn.secs.toFixed(2)}s`);
    }
  }
}

const rootfs = path.join(tmp, 'floor-rootfs');
function floor() {
  return run('unshare', ['--pid', '--fork', '--mount', '--uts', '--ipc', '--net', 'chroot', rootfs, '/bin/true']);
}

async function measureRunRm(rep) {
  for (const t of order(rep)) {
    const r = tools[t].runRm();
    checkForward(`${t} run --rm`);
    record('run --rm true (start to exit)', t, r.secs, r.ok ? null : tail(r.stderr || r.stdout));
  }
  const f = floor();
  record('run --rm true (start to exit)', 'floor', f.secs, f.ok ? null : tail(f.stderr));
}

async function measureFirstRequest(rep) {
  for (const t of order(rep)) {
    const tool = tools[t];
    const dir = projectDir(t, 'dns', COMPOSE_DNS);
    const project = projectName(t, 'dns');
    const ok = path.join(dir, 'out', 'ok');
    rmSync(path.join(dir, 'out'), { recursive: true, force: true });
    mkdirSync(path.join(dir, 'out'));
    chmodSync(path.join(dir, 'out'), 0o777);
    const t0 = performance.timeOrigin + performance.now();
    const up = tool.compose(dir, project, ['up', '-d']);
    let err = upError(tool, dir, project, up, 2);
    if (err) err = `up failed: ${err}`;
    let secs = 0;
    if (!err) {
      const deadline = Date.now() + 60_000;
      while (!existsSync(ok) && Date.now() < deadline) await sleep(5);
      if (existsSync(ok)) secs = (statSync(ok).mtimeMs - t0) / 1000;
      else err = 'no successful request by name within 60 s of up';
    }
    record('up → first request by name', t, secs, err);
    checkForward(`${t} first-request project`);
    const dn = down(t, dir, project);
    if (!dn.ok) await tool.teardown();
    log(`rep ${rep + 1} ${t}: first request ${err ? 'FAILED ' + err : secs.toFixed(3) + 's'}`);
  }
}

// ------------------------------------------------------------------ report

function table() {
  const peers = TOOLS.filter((t) => t !== 'tscompose');
  const cols = [...TOOLS, 'floor'];
  let md = `| measurement (seconds) | ${TOOLS.map((t) => tools[t].label).join(' | ')} | ${peers.map((p) => `tscompose/${tools[p].label}`).join(' | ')} |\n`;
  md += `|---|${TOOLS.map(() => '---').join('|')}|${peers.map(() => '---').join('|')}|\n`;
  const cell = (key, t) => {
    const tool = tools[t];
    if (t !== 'floor' && !tool.available) return `not run: ${tool.reason}`;
    const r = results[key]?.[t];
    if (!r) return '–';
    if (!r.values.length) return `failed: ${r.errors[0]}`;
    const s = stats(r.values);
    const fails = r.errors.length ? ` (${r.errors.length} failed: ${r.errors[0].slice(0, 120)})` : '';
    return `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})${fails}`;
  };
  const ratio = (key, p) => {
    const a = results[key]?.tscompose?.values;
    const b = results[key]?.[p]?.values;
    if (!a?.length || !b?.length) return '–';
    return `${(stats(a).median / stats(b).median).toFixed(2)}×`;
  };
  for (const key of Object.keys(results)) {
    md += `| ${key} | ${TOOLS.map((t) => cell(key, t)).join(' | ')} | ${peers.map((p) => ratio(key, p)).join(' | ')} |\n`;
    if (results[key].floor) {
      md += `| ↳ floor: \`unshare --pid --fork --mount --uts --ipc --net chroot ROOTFS /bin/true\` | ${cell(key, 'floor')} | | | | |\n`;
    }
  }
  void cols;
  // memory
  let mem = `\n| runtime memory with N running services (MiB, median of ${REPS}) | ${TOOLS.map((t) => tools[t].label).join(' | ')} | ${peers.map((p) => `tscompose/${tools[p].label}`).join(' | ')} |\n`;
  mem += `|---|${TOOLS.map(() => '---').join('|')}|${peers.map(() => '---').join('|')}|\n`;
  const mib = (kb) => (kb / 1024).toFixed(1);
  for (const n of Object.keys(memResults)) {
    const med = (t, f) => stats(memResults[n][t].map(f)).median;
    const row = (label, f) =>
      `| ${label} | ${TOOLS.map((t) => (memResults[n][t]?.length ? mib(med(t, f)) : tools[t].available ? 'failed' : 'not run')).join(' | ')} | ${peers
        .map((p) => (memResults[n][p]?.length && memResults[n].tscompose?.length ? `${(med('tscompose', f) / med(p, f)).toFixed(2)}×` : '–'))
        .join(' | ')} |\n`;
    mem += row(`N=${n}: total RSS`, (x) => x.totalRss);
    mem += row(`N=${n}: total PSS`, (x) => x.totalPss);
    // breakdown
    const parts = TOOLS.map((t) => {
      const s = memResults[n][t]?.[0];
      if (!s) return '–';
      return Object.entries(s.groups)
        .filter(([, g]) => g.count)
        .map(([name, g]) => `${name}: ${g.count} proc, RSS ${mib(g.rss)}, PSS ${mib(g.pss)}`)
        .join('; ');
    });
    mem += `| N=${n}: processes counted (first rep) | ${parts.join(' | ')} | ${peers.map(() => '').join(' | ')} |\n`;
  }
  return md + mem;
}

// ------------------------------------------------------------------ main

async function main() {
  log(`work dir ${tmp}; reps ${REPS}, run reps ${RUN_REPS}, sizes ${SIZES.join(',')}, tools ${TOOLS.join(',')}`);
  const fwd = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
  if (fwd !== '0') throw new Error(`net.ipv4.ip_forward is ${fwd} in the benchmark's namespace; it must be 0`);
  checkForward('start');

  // The same image for every tool: one OCI archive, converted for dockerd 20.10 (whose
  // `docker load` reads only the docker-save format) by skopeo, offline.
  ({ oci: archive, docker: dockerArchive } = busyboxArchives(tmp));
  // The floor's rootfs: busybox and its `true` applet.
  mkdirSync(path.join(rootfs, 'bin'), { recursive: true });
  copyFileSync('/bin/busybox', path.join(rootfs, 'bin/busybox'));
  chmodSync(path.join(rootfs, 'bin/busybox'), 0o755);
  symlinkSync('busybox', path.join(rootfs, 'bin/true'));

  for (const t of TOOLS) {
    const tool = tools[t];
    try {
      await tool.setup();
      checkForward(`${t} setup`);
      tool.available = true;
      tool.reason = '';
      log(`${t}: ready`);
    } catch (e) {
      tool.available = false;
      tool.reason = tail(e.message, 300);
      log(`${t}: cannot run here: ${tool.reason}`);
    }
  }

  for (let rep = 0; rep < REPS; rep++) await measureUpDown(rep);
  for (let rep = 0; rep < RUN_REPS; rep++) await measureRunRm(rep);
  for (const t of TOOLS) if (tools[t].available) tools[t].afterRunRm();
  log('run --rm done');
  for (let rep = 0; rep < REPS; rep++) await measureFirstRequest(rep);

  let md = `## tscompose vs docker-compose vs podman-compose (${new Date().toISOString()})\n\n`;
  md += `Machine: ${os.cpus().length} CPUs, kernel ${os.release()}, Node ${process.version}. `;
  md += `Versions: ${versions()}. Repetitions: ${REPS} (up/down, first request), ${RUN_REPS} (run --rm), round-robin across tools.\n\n`;
  md += table();
  notes.push(
    "Memory: RSS and PSS from /proc/PID/smaps_rollup of the runtime processes only (not the containers' own processes), picked in the benchmark's network namespace: tscompose = its supervisor per project; docker = containerd-shim per container + dockerd + containerd; podman = conmon per container + aardvark-dns. PSS divides shared pages among every process mapping them: the supervisor shares the node binary's pages with any other Node process on the machine, so its RSS is the conservative figure.",
  );
  notes.push(
    'down (default timeout) is measured at the sizes given by --default-down-sizes only: `sleep` as PID 1 ignores SIGTERM, so each tool waits out its 10 s timeout.',
  );
  if (notes.length) md += `\nNotes:\n${notes.map((n) => `- ${n}`).join('\n')}\n`;
  const fwdAfter = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
  md += `- net.ipv4.ip_forward in the benchmark's private namespace at the end: ${fwdAfter} (the host's is untouched: the run has its own namespace with only loopback).\n`;

  if (PROFILE && tools.tscompose.available) {
    try {
      md += '\n' + (await profileRun({ repo, tmp, env: tools.tscompose.env, dir: projectDir('tscompose', 'prof', COMPOSE_RUN), log }));
      md += await profileUp({ repo, tmp, env: tools.tscompose.env, dir: projectDir('tscompose', 'profup', composeSleep(10)), log, n: 10 });
    } catch (e) {
      md += `\nProfile failed: ${tail(e.message)}\n`;
    }
  }
  process.stdout.write(md);
  if (OUT) writeFileSync(OUT, md);
}

function versions() {
  const v = [];
  const first = (cmd, args, env) => tail(run(cmd, args, { env }).stdout.split('\n')[0] ?? '', 80);
  v.push(`tscompose ${JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')).version}`);
  if (tools.docker.available) {
    v.push(`docker-compose ${first('docker-compose', ['version', '--short'])}`);
    v.push(`dockerd ${first('/usr/bin/docker', ['version', '--format', '{{.Server.Version}}'], tools.docker.env)}`);
  }
  if (tools.podman.available) {
    v.push(`podman-compose ${first('sh', ['-c', 'dpkg-query -W -f "\\${Version}" podman-compose'])}`);
    v.push(`podman ${first('podman', ['version', '--format', '{{.Client.Version}}'], tools.podman.env)}`);
    v.push(`runc ${first('runc', ['--version']).replace(/^runc version /, '')}`);
  }
  return v.join(', ');
}

/** Project name used for each project directory (see measureUpDown, runRm, profile.mjs). */
function projectFor(tool, dirName) {
  if (dirName === 'run') return 'tscbrun';
  if (dirName === 'prof') return 'tscbprof';
  if (dirName === 'profup') return 'tscbprofup';
  return projectName(tool, dirName);
}

async function cleanupAll() {
  for (const t of TOOLS) {
    const tool = tools[t];
    if (!tool.available) continue;
    // bring down every project this run may have left
    const dirs = path.join(tmp, 'projects', t);
    for (const name of existsSync(dirs) ? readdirSync(dirs) : []) {
      const dir = path.join(dirs, name);
      if (existsSync(path.join(dir, 'compose.yaml'))) tool.compose(dir, projectFor(t, name), ['down', '-t', '0']);
    }
    try {
      await tool.teardown();
    } catch {
      /* best effort: the daemon cleanups below still run */
    }
  }
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch (e) {
      log(`cleanup: ${e.message}`);
    }
  }
  // tscompose supervisors that may remain for this root
  for (const p of processesHere()) {
    if (p.cmdline.includes(tscRoot) && p.pid !== process.pid) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  // unmount anything left below the work dir, remove the peers' new cgroups, then the dir
  removeLeftovers(tmp, cgroupsBefore, hostPathsBefore);
}

await runThenClean(main, cleanupAll);
