import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ContainerSpec } from '../../../src/engine/spec.js';

export function tempRoot(): { root: string; cleanup: () => void } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'tsc-sup-'));
  return { root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

let n = 0;
export function hostSpec(root: string, project: string, args: string[], id = `tsc-c${++n}`): ContainerSpec {
  return {
    id,
    bundleDir: path.join(root, 'projects', project, 'containers', id),
    rootfs: { lowerDirs: [], readonly: false },
    hostname: id,
    process: {
      args,
      env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'],
      cwd: '/',
      tty: false,
      noNewPrivileges: false,
      capabilities: [],
      rlimits: [],
      init: false,
    },
    mounts: [],
    resources: {},
    cgroupPath: `tscompose/${project}/${id}`,
    netns: { kind: 'host' },
    etc: { hosts: '', hostname: '', resolvConf: '' },
    sysctls: {},
    privileged: false,
  };
}

export async function until<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
