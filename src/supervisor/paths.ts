import path from 'node:path';

/** Where a project's supervisor keeps its socket, pid/lock file and log. */
export interface ProjectPaths {
  dir: string;
  socket: string;
  pidFile: string;
  logFile: string;
  containersDir: string;
}

export function projectPaths(root: string, project: string): ProjectPaths {
  const dir = path.join(root, 'projects', project);
  return {
    dir,
    socket: path.join(dir, 'supervisor.sock'),
    pidFile: path.join(dir, 'supervisor.pid'),
    logFile: path.join(dir, 'supervisor.log'),
    containersDir: path.join(dir, 'containers'),
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
}

export function bundleFiles(bundleDir: string): BundleFiles {
  return {
    stdinFifo: path.join(bundleDir, 'stdin.fifo'),
    stdoutFifo: path.join(bundleDir, 'stdout.fifo'),
    stderrFifo: path.join(bundleDir, 'stderr.fifo'),
    log: path.join(bundleDir, 'container-json.log'),
    status: path.join(bundleDir, 'status.json'),
    run: path.join(bundleDir, 'run.json'),
  };
}
