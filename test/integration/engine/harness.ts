/**
 * Shared setup for the engine's kernel tests: a busybox root filesystem (as a plain lowerdir),
 * unique ids and cgroup paths, a runner that captures stdout/stderr through files, and a
 * cleanup that removes every container, cgroup and temp dir the file made.
 */
import { closeSync, mkdtempSync, openSync, read, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeBusyboxRootfs } from '../../support/busybox.js';
import { DEFAULT_CAPABILITIES, removeContainer, startContainer, type ContainerSpec, type StartedContainer } from '../../../src/engine/index.js';

export interface Harness {
  dir: string;
  rootfs: string;
  /** A spec with the harness's defaults; `process` fields given replace the default's one by one. */
  spec(over?: Omit<Partial<ContainerSpec>, 'process'> & { args?: string[]; process?: Partial<ContainerSpec['process']> }): ContainerSpec;
  start(spec: ContainerSpec): Promise<Running>;
  run(spec: ContainerSpec, timeoutMs?: number): Promise<Result>;
  cleanup(): Promise<void>;
}

export interface Result {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Running extends StartedContainer {
  wait(timeoutMs?: number): Promise<Result>;
}

let seq = 0;

export function makeHarness(tag: string): Harness {
  const dir = mkdtempSync(path.join(os.tmpdir(), `tsc-engine-${tag}-`));
  const rootfs = makeBusyboxRootfs(path.join(dir, 'rootfs'));
  const project = `tsctest-${tag}-${process.pid}`;
  const specs: ContainerSpec[] = [];
  const children: StartedContainer[] = [];

  const h: Harness = {
    dir,
    rootfs,
    spec(over = {}) {
      const id = `tsc-${tag}-${process.pid}-${++seq}`;
      const { args, process: procOver, ...rest } = over;
      const s: ContainerSpec = {
        id,
        bundleDir: path.join(dir, 'bundles', id),
        rootfs: { lowerDirs: [rootfs], readonly: false },
        hostname: 'tsc-box',
        process: {
          args: args ?? ['true'],
          env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
          cwd: '/',
          tty: false,
          noNewPrivileges: false,
          capabilities: [...DEFAULT_CAPABILITIES],
          rlimits: [],
          init: false,
          ...procOver,
        },
        mounts: [],
        resources: {},
        cgroupPath: `tscompose/${project}/${id}`,
        netns: { kind: 'none' },
        etc: { hosts: '127.0.0.1 localhost\n', hostname: 'tsc-box\n', resolvConf: 'nameserver 127.0.0.11\n' },
        sysctls: {},
        privileged: false,
        ...rest,
      };
      specs.push(s);
      return s;
    },
    async start(spec) {
      const outFile = path.join(dir, `${spec.id}.out`);
      const errFile = path.join(dir, `${spec.id}.err`);
      const out = openSync(outFile, 'w');
      const err = openSync(errFile, 'w');
      let started: StartedContainer;
      try {
        started = await startContainer(spec, { stdout: out, stderr: err });
      } finally {
        closeSync(out);
        closeSync(err);
      }
      children.push(started);
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
        if (started.child.exitCode !== null || started.child.signalCode !== null) {
          resolve({ code: started.child.exitCode, signal: started.child.signalCode });
        } else started.child.once('exit', (code, signal) => resolve({ code, signal }));
      });
      return {
        ...started,
        async wait(timeoutMs = 30_000) {
          let timer: NodeJS.Timeout | undefined;
          const r = await Promise.race([
            exited,
            new Promise<never>((_, rej) => {
              timer = setTimeout(() => rej(new Error(`container ${spec.id} did not exit within ${timeoutMs} ms`)), timeoutMs);
            }),
          ]).finally(() => clearTimeout(timer));
          return { ...r, stdout: readFileSync(outFile, 'utf8'), stderr: readFileSync(errFile, 'utf8') };
        },
      };
    },
    async run(spec, timeoutMs) {
      const r = await h.start(spec);
      return r.wait(timeoutMs);
    },
    async cleanup() {
      for (const c of children) {
        if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
      }
      const errors: unknown[] = [];
      for (const s of specs) {
        try {
          await removeContainer(s);
        } catch (e) {
          errors.push(e);
        }
      }
      rmSync(dir, { recursive: true, force: true });
      if (errors.length) throw errors[0];
    },
  };
  return h;
}

/** Lines of the host's mount table mentioning `needle`. */
export function hostMountsWith(needle: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(needle));
}

/**
 * Reads a pty master until every slave is closed (EIO). Reads run on the thread pool so a
 * timer can still fire: after `timeoutMs`, `onTimeout` runs (kill the container) and the
 * read then ends with what arrived.
 */
export async function readPty(master: number, timeoutMs: number, onTimeout: () => void): Promise<string> {
  const timer = setTimeout(onTimeout, timeoutMs);
  let out = '';
  const buf = Buffer.alloc(4096);
  try {
    for (;;) {
      const n = await new Promise<number>((resolve) => read(master, buf, 0, buf.length, null, (err, bytes) => resolve(err ? 0 : bytes)));
      if (n <= 0) break;
      out += buf.toString('utf8', 0, n);
    }
  } finally {
    clearTimeout(timer);
  }
  return out.replace(/\r/g, '');
}

/** Waits until `check` holds (polling), or fails after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
