// What every side-by-side benchmark needs (bench/compare.mjs, bench/build.mjs): running a command
// and timing it, medians, the one busybox image every tool loads, and the cleanup of what the
// peers leave below the run's temp dir and in the cgroup hierarchies.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, rmdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const log = (...a) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${a.join(' ')}\n`);

/** Runs a command to completion; returns wall seconds, exit status and output. */
export function run(cmd, args, { env = {}, cwd, timeoutMs = 600_000 } = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, {
    cwd,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const ok = r.status === 0 && !r.error;
  return { ok, secs, status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

export function must(cmd, args, o) {
  const r = run(cmd, args, o);
  if (!r.ok) {
    throw new Error(`${cmd} ${args.join(' ')} failed (status ${r.status}): ${tail(r.stderr || r.stdout || String(r.error))}`);
  }
  return r;
}

export function tail(s, n = 400) {
  s = String(s).trim().replace(/\s+/g, ' ');
  return s.length > n ? '…' + s.slice(-n) : s;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const have = (bin) => run('sh', ['-c', `command -v ${bin}`]).ok;

export function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], n: s.length };
}

export const fmt = (x) => (x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x >= 0.01 ? x.toFixed(3) : x.toFixed(4));

/** Tools in the order of repetition `rep`: the first one rotates, so a slow phase hits all alike. */
export function rotate(names, rep) {
  const k = names.length ? rep % names.length : 0;
  return [...names.slice(k), ...names.slice(0, k)];
}

/**
 * The project's busybox test image as an OCI archive (podman, buildah, tscompose) and as a
 * docker-save archive (dockerd 20.10's `docker load` reads only that), converted by skopeo
 * offline, so every tool runs the same layer and nothing is pulled.
 */
export function busyboxArchives(tmp) {
  const oci = path.join(tmp, 'busybox-oci.tar');
  const docker = path.join(tmp, 'busybox-docker.tar');
  must(process.execPath, [path.join(repo, 'scripts/build-busybox-image.mjs'), oci]);
  must('skopeo', ['copy', '--quiet', `oci-archive:${oci}`, `docker-archive:${docker}:docker.io/library/busybox:latest`]);
  return { oci, docker };
}

// dockerd (cgroupfs driver) and podman (cgroupfs manager) create parent cgroups `docker` and
// `libpod_parent` in every hierarchy and leave them when their last container goes. Those that
// did not exist before the run are removed at the end (rmdir only removes empty cgroups), as are
// tscompose cgroups of this run's projects (tscb*) if any survived.
const CG = '/sys/fs/cgroup';
export function peerCgroups() {
  const out = [];
  for (const h of readdirSync(CG)) {
    for (const p of ['docker', 'libpod_parent']) if (existsSync(path.join(CG, h, p))) out.push(path.join(CG, h, p));
    const t = path.join(CG, h, 'tscompose');
    if (existsSync(t)) for (const d of readdirSync(t)) if (d.startsWith('tscb')) out.push(path.join(t, d));
  }
  return out;
}

function removeCgroupTree(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeCgroupTree(path.join(dir, e.name));
  try {
    rmdirSync(dir);
  } catch (e) {
    log(`cleanup: cannot remove cgroup ${dir}: ${e.code}`);
  }
}

/**
 * True in bench/netns-enter.sh's namespace (only loopback, seen through its own sysfs), never in
 * the host's. Checked when the module loads, before any tool adds a device.
 */
export const privateNetns = readdirSync('/sys/class/net').join(',') === 'lo';

// Paths on the host that the tools use whatever their configured roots: dockerd's plugin dir
// /run/docker/plugins; netavark's IPAM database and lock in /run/containers/networks (fixed for
// root in podman 4.3); tscompose's firewall record of the run's network namespace, which dies
// with the run. Those that did not exist before the run are the run's own and are removed.
const netnsRecord = `/run/tscompose/firewall.net-${statSync('/proc/self/ns/net').ino}.json`;
const HOST_PATHS = [
  '/run/docker',
  '/run/containers',
  '/run/libpod',
  '/run/buildah',
  '/var/lib/docker',
  '/var/lib/containers',
  '/etc/docker',
  ...(privateNetns ? [netnsRecord, `${netnsRecord}.lock`] : []),
];
export const hostPaths = () => new Set(HOST_PATHS.filter((d) => existsSync(d)));

/**
 * Unmounts what is left below `tmp` (deepest first), removes the peers' new cgroups and host
 * paths, then `tmp` itself (kept when TSC_BENCH_KEEP is set).
 */
export function removeLeftovers(tmp, cgroupsBefore, hostPathsBefore) {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((m) => m && m.startsWith(tmp + '/'))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) run('umount', ['-l', m]);
  for (const dir of peerCgroups()) if (!cgroupsBefore.has(dir)) removeCgroupTree(dir);
  for (const dir of hostPaths()) if (!hostPathsBefore.has(dir)) rmSync(dir, { recursive: true, force: true });
  if (process.env.TSC_BENCH_KEEP) log(`kept ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
}

/** Runs the benchmark, then its cleanup whatever happened; exits 1 if the benchmark failed. */
export async function runThenClean(main, cleanup) {
  let code = 0;
  try {
    await main();
  } catch (e) {
    log(`error: ${e.message}`);
    code = 1;
  } finally {
    await cleanup();
  }
  process.exit(code);
}
