import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import { TscError } from '../common/errors.js';
import { layout } from '../common/layout.js';

/** Where a project's supervisor keeps its socket, pid/lock file, log and index (names from common/layout). */
export interface ProjectPaths {
  dir: string;
  socket: string;
  pidFile: string;
  logFile: string;
  /** supervised.json: container id → bundle dir of every container the supervisor knows */
  index: string;
  containersDir: string;
}

export function projectPaths(root: string, project: string): ProjectPaths {
  return {
    dir: layout.project(root, project),
    socket: layout.supervisorSocket(root, project),
    pidFile: layout.supervisorPid(root, project),
    logFile: layout.supervisorLog(root, project),
    index: layout.supervised(root, project),
    containersDir: layout.containers(root, project),
  };
}

/** Files the supervisor owns inside a container's bundle directory. */
export interface BundleFiles {
  stdinFifo: string;
  stdoutFifo: string;
  stderrFifo: string;
  log: string;
  status: string;
  run: string;
  /** a healthcheck probe's output, read back after it ran */
  healthProbe: string;
  /** the host ports the port hook bound for the container (kept across restarts; `port`, `ps` read it) */
  ports: string;
}

export function bundleFiles(bundleDir: string): BundleFiles {
  return {
    stdinFifo: path.join(bundleDir, 'stdin.fifo'),
    stdoutFifo: path.join(bundleDir, 'stdout.fifo'),
    stderrFifo: path.join(bundleDir, 'stderr.fifo'),
    log: path.join(bundleDir, 'container-json.log'),
    status: path.join(bundleDir, 'status.json'),
    run: path.join(bundleDir, 'run.json'),
    healthProbe: path.join(bundleDir, 'health-probe.out'),
    ports: path.join(bundleDir, 'ports.json'),
  };
}

/** Longest path a unix socket address holds (sun_path is 108 bytes with its NUL). */
const SUN_PATH_MAX = 107;

/**
 * An address to bind or connect a unix socket at `socketPath`. Node silently truncates a path
 * longer than sun_path (a socket in the wrong place), so a long one goes through an open
 * descriptor of its directory (/proc/self/fd/N/name); release() closes it once the socket
 * is bound or connected.
 */
export function socketAddress(socketPath: string): { address: string; release(): void } {
  if (Buffer.byteLength(socketPath) <= SUN_PATH_MAX) return { address: socketPath, release() {} };
  const fd = openSync(path.dirname(socketPath), 'r');
  return {
    address: `/proc/self/fd/${fd}/${path.basename(socketPath)}`,
    release: () => closeSync(fd),
  };
}

/** The error of a failed connection to the project's supervisor socket. */
export function socketError(project: string, socketPath: string, err: NodeJS.ErrnoException): TscError {
  const notRunning = err.code === 'ENOENT' || err.code === 'ECONNREFUSED';
  return new TscError(
    'SUPERVISOR',
    notRunning
      ? `the supervisor of project ${project} is not running (no one answers on ${socketPath})`
      : `talking to the supervisor of project ${project} failed: ${err.message}`,
    { cause: err, hint: notRunning ? 'commands that start containers start it again' : undefined },
  );
}
