#!/usr/bin/env node
// Log load: N services each writing RATE bytes of log lines per second for SECONDS seconds
// (100 x 1 MiB/s x 60 s by default), on the busybox image, with json-file rotation
// (max-size/max-file). Measures: each writer's achieved rate and its slowest 1 MiB write (a
// container blocked on a full pipe falls behind), the supervisor's peak RSS and CPU time, how
// long its answers to `list` (what `ps` asks) take during the load, how many lines a `logs -f`
// started before the load received against the lines written, and whether every container's
// log files stayed within max-size x max-file. Each writer `cat`s a prepared file of RATE
// bytes of 100-byte lines once a second, so the load costs the writers next to nothing and the
// figures are the supervisor's. As root, after `npm run build`:
//   node bench/log-load.mjs [--services 100] [--rate 1048576] [--seconds 60] [--max-size 5m]
//                           [--max-file 2] [--follow 0] [--out result.json]
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(repo, 'bin', 'tscompose.js');
const args = Object.fromEntries(
  process.argv
    .slice(2)
    .join(' ')
    .split('--')
    .filter(Boolean)
    .map((a) => a.trim().split(/\s+/)),
);
const N = Number(args.services ?? 100);
const RATE = Number(args.rate ?? 1048576);
const SECONDS = Number(args.seconds ?? 60);
const MAX_SIZE = args['max-size'] ?? '5m';
const MAX_FILE = Number(args['max-file'] ?? 2);
const FOLLOW = args.follow !== '0'; // --follow 0: no `logs -f` during the load
const LINE = 99; // payload characters per line (then a newline)
const LINES_PER_CHUNK = Math.floor(RATE / (LINE + 1));
const CHUNK_BYTES = LINES_PER_CHUNK * (LINE + 1);

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tsc-logload-'));
const root = path.join(tmp, 'root');
const project = `logload${process.pid}`;
const dir = path.join(tmp, project);
const sig = path.join(tmp, 'sig');
const data = path.join(tmp, 'data');
mkdirSync(dir);
mkdirSync(sig);
mkdirSync(data);
writeFileSync(path.join(data, 'chunk'), ('x'.repeat(LINE) + '\n').repeat(LINES_PER_CHUNK));
const env = { ...process.env, TSCOMPOSE_ROOT: root };
const cli = (a, opts = {}) => execFileSync(CLI, a, { cwd: dir, env, encoding: 'utf8', maxBuffer: 1 << 26, ...opts });

// centiseconds from /proc/uptime (not namespaced), so that the writer can time its own writes
const writer = [
  'now() { read u _ < /proc/uptime; echo ${u%.*}${u#*.}; }',
  'while [ ! -e /sig/go ]; do usleep 100000; done',
  `s=$(now); end=$((s + ${SECONDS * 100})); n=0; worst=0`,
  'while [ $(now) -lt $end ]; do',
  'a=$(now); cat /data/chunk; b=$(now)',
  '  [ $((b - a)) -gt $worst ] && worst=$((b - a)); n=$((n + 1))',
  '  rem=$((a + 100 - b)); [ $rem -gt 0 ] && usleep $((rem * 10000))',
  'done',
  'echo "$n $(($(now) - s)) $worst" > /sig/$W',
  'exec sleep 1000',
].join('\n');

let compose = 'services:\n';
for (let i = 1; i <= N; i++) {
  compose += `  w${i}:\n    image: busybox\n    stop_signal: SIGKILL\n    environment: {W: w${i}}\n    volumes: ["${sig}:/sig", "${data}:/data:ro"]\n`;
  compose += `    logging: {driver: json-file, options: {max-size: "${MAX_SIZE}", max-file: "${MAX_FILE}"}}\n`;
  compose += `    command: ["sh", "-c", ${JSON.stringify(writer).replaceAll('$', () => '$$')}]\n`;
}
writeFileSync(path.join(dir, 'compose.yaml'), compose);

function rssKiB(pid) {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

const { connectSupervisor } = await import(path.join(repo, 'dist', 'supervisor', 'index.js'));
const cpuSeconds = (pid) => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks of 10 ms
  } catch {
    return 0;
  }
};
const result = { services: N, rateBytesPerSecond: CHUNK_BYTES, seconds: SECONDS, maxSize: MAX_SIZE, maxFile: MAX_FILE };
try {
  const archive = path.join(tmp, 'busybox.tar');
  execFileSync(process.execPath, [path.join(repo, 'scripts', 'build-busybox-image.mjs'), archive], { stdio: 'pipe' });
  cli(['image', 'load', '-i', archive]);
  let t = Date.now();
  cli(['up', '-d'], { stdio: 'pipe' });
  result.upSeconds = (Date.now() - t) / 1000;
  const supPid = Number(readFileSync(path.join(root, 'projects', project, 'supervisor.pid'), 'utf8').trim());
  result.supervisorRssBeforeKiB = rssKiB(supPid);

  // logs -f from before the load: count the writers' lines it receives
  let received = 0;
  let tail = '';
  const follower = spawn(FOLLOW ? CLI : 'true', FOLLOW ? ['logs', '-f', '--no-color'] : [], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let followerErr = '';
  let followerExit;
  follower.stderr.on('data', (b) => (followerErr = (followerErr + b.toString()).slice(-2000)));
  follower.on('exit', (code, signal) => (followerExit = signal ?? code));
  follower.stdout.on('data', (b) => {
    const text = tail + b.toString('latin1');
    const lines = text.split('\n');
    tail = lines.pop();
    for (const l of lines) if (l.endsWith('x')) received++;
  });
  await new Promise((r) => setTimeout(r, 1000));

  // the control plane under load: `list` (what ps asks) twice a second, each answer timed
  const sup = await connectSupervisor(root, project);
  const listMs = [];
  let probing = true;
  const probe = (async () => {
    while (probing) {
      const t0 = Date.now();
      await sup.list();
      listMs.push(Date.now() - t0);
      await new Promise((r) => setTimeout(r, 500));
    }
  })();

  const cpu0 = cpuSeconds(supPid);
  writeFileSync(path.join(sig, 'go'), '');
  t = Date.now();
  let peak = 0;
  const done = () => readdirSync(sig).filter((f) => f !== 'go');
  while (done().length < N && Date.now() - t < SECONDS * 3000 + 60_000) {
    peak = Math.max(peak, rssKiB(supPid));
    await new Promise((r) => setTimeout(r, 500));
  }
  result.loadSeconds = (Date.now() - t) / 1000;
  result.supervisorCpuSeconds = cpuSeconds(supPid) - cpu0;
  probing = false;
  await probe;
  listMs.sort((a, b) => a - b);
  result.listAnswerMs = { count: listMs.length, median: listMs[Math.floor(listMs.length / 2)], max: listMs.at(-1) };
  result.supervisorPeakRssKiB = peak;
  result.supervisorRssAfterKiB = rssKiB(supPid);

  const writers = done().map((f) => {
    const [n, cs, worst] = readFileSync(path.join(sig, f), 'utf8').trim().split(' ').map(Number);
    return { service: f, chunks: n, seconds: cs / 100, achievedBytesPerSecond: (n * CHUNK_BYTES) / (cs / 100), slowestChunkSeconds: worst / 100 };
  });
  const rates = writers.map((w) => w.achievedBytesPerSecond).sort((a, b) => a - b);
  result.writersReported = writers.length;
  result.writerRate = { min: rates[0], median: rates[Math.floor(rates.length / 2)], max: rates.at(-1) };
  result.slowestChunkSeconds = Math.max(...writers.map((w) => w.slowestChunkSeconds));
  const written = writers.reduce((s, w) => s + w.chunks * LINES_PER_CHUNK, 0);

  result.aggregateBytesPerSecond = writers.reduce((sum, w) => sum + w.achievedBytesPerSecond, 0);
  // logs -f: wait until it stops receiving (3 s without news), at most 60 s
  let last = -1;
  const drainStart = Date.now();
  while (received !== last && Date.now() - drainStart < 60_000) {
    last = received;
    await new Promise((r) => setTimeout(r, 3000));
  }
  result.logsFExitedEarly = FOLLOW && followerExit !== undefined ? { exit: followerExit, stderr: followerErr.trim() } : false;
  follower.kill();
  if (FOLLOW && followerErr.trim()) result.logsFStderr = followerErr.trim();
  result.linesWritten = written;
  result.linesReceivedByLogsF = received;
  result.logsFDrainSeconds = (Date.now() - drainStart) / 1000 - 3;

  // rotation: every container's files within max-size (plus one line) and max-file
  const limit = Number(/^(\d+)m$/.exec(MAX_SIZE)?.[1] ?? 0) * 1024 * 1024;
  const containers = path.join(root, 'projects', project, 'containers');
  let maxFiles = 0;
  let maxBytes = 0;
  let totalBytes = 0;
  for (const c of readdirSync(containers)) {
    const logs = readdirSync(path.join(containers, c)).filter((f) => f.startsWith('container-json.log'));
    maxFiles = Math.max(maxFiles, logs.length);
    for (const f of logs) {
      const size = statSync(path.join(containers, c, f)).size;
      maxBytes = Math.max(maxBytes, size);
      totalBytes += size;
    }
  }
  result.rotation = {
    maxFilesPerContainer: maxFiles,
    largestFileBytes: maxBytes,
    limitBytes: limit,
    totalLogBytes: totalBytes,
    held: maxFiles <= MAX_FILE && (!limit || maxBytes <= limit + 64 * 1024),
  };
} finally {
  if (process.env.KEEP_SUPLOG)
    try {
      writeFileSync(process.env.KEEP_SUPLOG, readFileSync(path.join(root, 'projects', project, 'supervisor.log')));
    } catch {}
  try {
    cli(['down', '-v', '-t', '0'], { stdio: 'pipe' });
  } catch (e) {
    console.error(`down failed: ${e.message}`);
  }
  if (existsSync(tmp)) rmSync(tmp, { recursive: true, force: true });
}
console.log(JSON.stringify(result, null, 1));
if (args.out) writeFileSync(args.out, JSON.stringify(result, null, 1) + '\n');
