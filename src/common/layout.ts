/**
 * Every path under the state root, named once (docs/ARCHITECTURE.md draws the tree). Pure
 * functions of the root and names: no folder is created here. The project name is checked by
 * the state part before it reaches a path (state/paths.ts), so it cannot escape `projects/`.
 *
 *   <root>/images/                         the image store (blobs, layers, index)
 *   <root>/volumes/<name>/_data            named volumes
 *   <root>/network/                        IPAM, published ports, link journal
 *   <root>/locks/<name>.lock               machine-wide locks of short critical sections
 *   <root>/build/cache/<key>.json          the builder's step cache (one file per step)
 *   <root>/build/tmp/<pid>.<rand>/         a running build's scratch (bundles, upper dirs, layer tars)
 *   <root>/projects/<project>/             state.json, lock, supervisor.{sock,pid,log},
 *                                          supervised.json, containers/<id>/, netns/<id>
 */
import path from 'node:path';

const abs = (root: string) => path.resolve(root);

export const layout = {
  images: (root: string) => path.join(abs(root), 'images'),
  volumes: (root: string) => path.join(abs(root), 'volumes'),
  volume: (root: string, name: string) => path.join(abs(root), 'volumes', name),
  volumeData: (root: string, name: string) => path.join(abs(root), 'volumes', name, '_data'),
  network: (root: string) => path.join(abs(root), 'network'),
  buildCache: (root: string) => path.join(abs(root), 'build', 'cache'),
  buildTmp: (root: string) => path.join(abs(root), 'build', 'tmp'),
  lock: (root: string, name: string) => path.join(abs(root), 'locks', `${name}.lock`),
  projects: (root: string) => path.join(abs(root), 'projects'),
  project: (root: string, project: string) => path.join(abs(root), 'projects', project),
  stateFile: (root: string, project: string) => path.join(abs(root), 'projects', project, 'state.json'),
  projectLock: (root: string, project: string) => path.join(abs(root), 'projects', project, 'lock'),
  supervisorSocket: (root: string, project: string) => path.join(abs(root), 'projects', project, 'supervisor.sock'),
  supervisorPid: (root: string, project: string) => path.join(abs(root), 'projects', project, 'supervisor.pid'),
  supervisorLog: (root: string, project: string) => path.join(abs(root), 'projects', project, 'supervisor.log'),
  supervised: (root: string, project: string) => path.join(abs(root), 'projects', project, 'supervised.json'),
  containers: (root: string, project: string) => path.join(abs(root), 'projects', project, 'containers'),
  container: (root: string, project: string, id: string) => path.join(abs(root), 'projects', project, 'containers', id),
  netnsDir: (root: string, project: string) => path.join(abs(root), 'projects', project, 'netns'),
  netns: (root: string, project: string, id: string) => path.join(abs(root), 'projects', project, 'netns', id),
} as const;

/** What a project folder holds besides its record and lock (removed when the project is gone). */
export const PROJECT_RUNTIME_ENTRIES = ['containers', 'netns', 'supervisor.sock', 'supervisor.pid', 'supervisor.log', 'supervised.json'] as const;
