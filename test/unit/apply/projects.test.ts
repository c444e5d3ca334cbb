import { mkdirSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { listProjectSummaries } from '../../../src/apply/projects.js';
import { layout } from '../../../src/common/layout.js';
import { emptyProjectState, writeProjectState } from '../../../src/state/index.js';
import { runSupervisor, type SupervisorServer } from '../../../src/supervisor/server.js';
import { bundleFiles } from '../../../src/supervisor/paths.js';
import type { ContainerStatus } from '../../../src/supervisor/types.js';
import { HostRuntime } from '../supervisor/host-runtime.js';
import { tempRoot } from '../supervisor/helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A project with one container whose status file says it is waiting for a restart. */
async function restartingProject(): Promise<{ root: string; project: string }> {
  const { root, cleanup } = tempRoot();
  cleanups.push(cleanup);
  const project = 'demo';
  const state = emptyProjectState(project);
  const name = 'demo-web-1';
  state.containers[name] = {
    id: name,
    name,
    service: 'web',
    number: 1,
    oneOff: false,
    configHash: 'h',
    definition: {},
    image: 'x',
    imageId: 'sha256:x',
    created: new Date().toISOString(),
  };
  await writeProjectState(root, state);
  const dir = layout.container(root, project, name);
  mkdirSync(dir, { recursive: true });
  const status: ContainerStatus = {
    id: name,
    state: 'restarting',
    pid: null,
    startTime: null,
    startedAt: null,
    finishedAt: new Date().toISOString(),
    exitCode: 1,
    oomKilled: false,
    restartCount: 1,
    stoppedByUser: false,
  };
  writeFileSync(bundleFiles(dir).status, JSON.stringify(status));
  return { root, project };
}

describe('listProjectSummaries', () => {
  it('a pending restart is over when no supervisor answers for the project', async () => {
    const { root } = await restartingProject();
    expect((await listProjectSummaries(root))[0].states).toEqual({ exited: 1 });
  });

  it('a pending restart is still restarting while the project has a supervisor', async () => {
    const { root, project } = await restartingProject();
    const server: SupervisorServer = await runSupervisor({ root, project, runtime: new HostRuntime(), log: () => {} });
    cleanups.push(() => server.close());
    expect((await listProjectSummaries(root))[0].states).toEqual({ restarting: 1 });
  });
});
