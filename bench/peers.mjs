// The peers' daemons and configuration, as the benchmarks set them up: a dockerd of the run's own
// (all state in the run's temp dir, no NAT, no forwarding) and a containers.conf/storage.conf for
// podman and buildah that works on this machine. Used by bench/compare.mjs and bench/build.mjs.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { have, must, run, sleep, tail } from './harness.mjs';

/**
 * Starts dockerd with its data and exec roots, pid file and socket in `dir`, waits until it
 * answers and loads `dockerArchive`. Returns the environment that points the docker CLI at it
 * and a stop function (also pushed onto `cleanups`, so a failed run still stops it).
 */
export async function startDockerd(dir, dockerArchive, cleanups) {
  for (const b of ['/usr/bin/docker', 'dockerd']) {
    if (!have(b)) throw new Error(`${b} is not installed (Debian package docker.io)`);
  }
  mkdirSync(dir, { recursive: true });
  const sock = path.join(dir, 'docker.sock');
  const env = { DOCKER_HOST: `unix://${sock}`, COMPOSE_INTERACTIVE_NO_CLI: '1', DOCKER_CONFIG: path.join(dir, 'config') };
  // Never NAT, never forward: containers only need their bridge. The whole run is inside a
  // private network namespace anyway (bench/netns-enter.sh).
  const args = [
    `--data-root=${dir}/data`,
    `--exec-root=${dir}/exec`,
    `--pidfile=${dir}/dockerd.pid`,
    `--host=unix://${sock}`,
    '--iptables=false',
    '--ip-masq=false',
    '--ip-forward=false',
    '--userland-proxy=false',
    '--exec-opt=native.cgroupdriver=cgroupfs',
    '--storage-driver=overlay2',
    '--log-level=error',
  ];
  const logFile = path.join(dir, 'dockerd.log');
  const out = openSync(logFile, 'a');
  const daemon = spawn('dockerd', args, { stdio: ['ignore', out, out], detached: false });
  const stop = async () => {
    if (daemon.exitCode !== null) return;
    daemon.kill('SIGTERM');
    for (let i = 0; i < 200 && daemon.exitCode === null; i++) await sleep(100);
    if (daemon.exitCode === null) daemon.kill('SIGKILL');
  };
  cleanups.push(stop);
  for (let i = 0; ; i++) {
    if (run('/usr/bin/docker', ['version'], { env }).ok) break;
    if (daemon.exitCode !== null || i > 300) {
      throw new Error(`dockerd did not come up: ${tail(readFileSync(logFile, 'utf8'), 600)}`);
    }
    await sleep(100);
  }
  must('/usr/bin/docker', ['load', '-i', dockerArchive], { env });
  return { env, stop };
}

/**
 * Writes containers.conf, storage.conf and registries.conf for podman or buildah with all state
 * in `dir`, and returns the environment that selects them and a note on the ulimits chosen.
 *
 * This machine: hard limit nofile 20000 and no CAP_SYS_RESOURCE, so podman's default
 * nofile=1048576 fails in setrlimit; cgroupfs because there is no systemd; runc because crun
 * rejects the hybrid cgroup layout while cgroup2 offers hugetlb.
 */
export function containersConfig(dir) {
  mkdirSync(path.join(dir, 'networks'), { recursive: true });
  mkdirSync(path.join(dir, 'tmp'), { recursive: true });
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const hard = (name) => new RegExp(`^${name}\\s+\\S+\\s+(\\S+)`, 'm').exec(limits)?.[1] ?? 'unlimited';
  const nofile = hard('Max open files');
  // podman 4.3 lowers its own RLIMIT_NPROC to 32768 when it starts (seen in conmon's
  // /proc/PID/limits), so a container's nproc above that fails in runc's setrlimit too.
  const nprocHard = hard('Max processes');
  const nproc = nprocHard === 'unlimited' ? '32768' : String(Math.min(Number(nprocHard), 32768));
  const ulimits = [nofile !== 'unlimited' && `"nofile=${nofile}:${nofile}"`, `"nproc=${nproc}:${nproc}"`].filter(Boolean);
  writeFileSync(
    path.join(dir, 'containers.conf'),
    `[containers]
default_ulimits = [${ulimits.join(', ')}]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "${dir}/events.log"
runtime = "runc"
tmp_dir = "${dir}/tmp"
[network]
network_backend = "netavark"
network_config_dir = "${dir}/networks"
`,
  );
  writeFileSync(path.join(dir, 'storage.conf'), `[storage]\ndriver = "overlay"\ngraphroot = "${dir}/root"\nrunroot = "${dir}/run"\n`);
  writeFileSync(path.join(dir, 'registries.conf'), 'unqualified-search-registries = ["docker.io"]\nshort-name-mode = "disabled"\n');
  return {
    env: {
      CONTAINERS_CONF: path.join(dir, 'containers.conf'),
      CONTAINERS_STORAGE_CONF: path.join(dir, 'storage.conf'),
      CONTAINERS_REGISTRIES_CONF: path.join(dir, 'registries.conf'),
    },
    note: `default_ulimits = [${ulimits.join(', ')}] (this machine's hard limits; podman's defaults exceed them and CAP_SYS_RESOURCE is absent)`,
  };
}

/** Why podman runs with runc and not crun, as measured now. */
export function crunNote(env) {
  const c = run('podman', ['--runtime', 'crun', 'run', '--rm', '--network', 'none', 'busybox:latest', 'true'], { env, timeoutMs: 60_000 });
  return c.ok
    ? 'podman with crun worked in this run; runc is used anyway so that runs stay comparable.'
    : `podman with crun fails here: \`${tail(c.stderr, 200)}\`; podman runs with runc (containers.conf runtime = "runc").`;
}
