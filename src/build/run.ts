/**
 * One RUN: a container of our engine on an overlay of the stage's layers, with Docker's default
 * capabilities and seccomp filter, in the build's network (none: a namespace of its own with
 * loopback only; host; default: the build bridge with egress, see network.ts). Its output comes
 * back line by line through a FIFO; when it exits, its upper directory (the step's changes in
 * overlayfs form) is moved out for the layer writer and the container is removed: cgroup,
 * bundle, network attachment and namespace file, whatever happened.
 */
import { closeSync, constants as fsConstants, existsSync, openSync, readFileSync, renameSync, rmSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { TscError } from '../common/errors.js';
import { DEFAULT_CAPABILITIES, cgroupPathFor, removeContainer, startContainer, stopContainer, type ContainerSpec, type NetnsSpec } from '../engine/index.js';
import { connectContainer, createNetns, deleteNetns, disconnectContainer, upstreamResolvers } from '../network/index.js';
import { mkfifo } from '../sys/fifo.js';
import type { BuildNetwork } from './network.js';

export interface RunInput {
  /** the build's project-like name (cgroups and links carry it) */
  project: string;
  /** unique per RUN: container id, cgroup and bundle name */
  id: string;
  /** the build's scratch directory */
  scratch: string;
  lowerDirs: string[];
  argv: string[];
  env: string[];
  cwd: string;
  user: string;
  network: BuildNetwork;
  shmSize?: number;
  onLine: (line: string) => void;
  signal?: AbortSignal;
}

export interface RunOutput {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** the container's upper directory, moved out of its bundle (the caller removes it) */
  upper: string;
}

/** Paths the engine creates in the root as mount points; not part of a RUN's changes when they were not in the image. */
export const MOUNT_POINTS = ['proc', 'sys', 'dev', 'etc/hosts', 'etc/hostname', 'etc/resolv.conf'];

function resolvers(): string {
  const read = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8') : '');
  const ips = upstreamResolvers(read('/etc/resolv.conf'), read('/run/systemd/resolve/resolv.conf'));
  return ips.map((ip) => `nameserver ${ip}\n`).join('');
}

/** Runs one RUN container to its end and returns its exit and its changes. */
export async function runContainer(r: RunInput): Promise<RunOutput> {
  const bundleDir = path.join(r.scratch, r.id);
  const netnsFile = path.join(r.scratch, `${r.id}.netns`);
  const fifo = path.join(r.scratch, `${r.id}.out`);
  const spec: ContainerSpec = {
    id: r.id,
    bundleDir,
    rootfs: { lowerDirs: r.lowerDirs, readonly: false },
    // fixed, as BuildKit's: a hostname is never part of what a build produces
    hostname: 'buildkitsandbox',
    process: {
      args: r.argv,
      env: r.env,
      cwd: r.cwd,
      user: r.user,
      tty: false,
      noNewPrivileges: false,
      capabilities: [...DEFAULT_CAPABILITIES],
      rlimits: [],
      init: false,
    },
    mounts: [],
    resources: {},
    cgroupPath: cgroupPathFor(r.project, r.id),
    netns: { kind: 'host' },
    etc: { hosts: '127.0.0.1\tlocalhost buildkitsandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n', hostname: 'buildkitsandbox\n', resolvConf: resolvers() },
    sysctls: {},
    shmSize: r.shmSize,
    privileged: false,
  };
  let netns: NetnsSpec = { kind: 'host' };
  let attached = false;
  let madeNetns = false;
  let reader: net.Socket | undefined;
  let writer: number | undefined;
  try {
    if (r.network.mode !== 'host') {
      if (r.network.mode === 'none') {
        createNetns(netnsFile);
        madeNetns = true;
      } else {
        connectContainer({ netnsPath: netnsFile, container: r.id, networks: [{ network: r.network.ensure() }] });
        madeNetns = true;
        attached = true;
      }
      netns = { kind: 'path', path: netnsFile };
    }
    spec.netns = netns;
    mkfifo(fifo);
    const rfd = openSync(fifo, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    writer = openSync(fifo, fsConstants.O_WRONLY);
    reader = new net.Socket({ fd: rfd, readable: true, writable: false });
    let pending = '';
    reader.setEncoding('utf8');
    reader.on('data', (d: string) => {
      pending += d;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        r.onLine(pending.slice(0, nl));
        pending = pending.slice(nl + 1);
      }
      if (pending.length > 65536) {
        r.onLine(pending);
        pending = '';
      }
    });
    const drained = new Promise<void>((resolve) => reader!.once('close', () => resolve()));
    reader.on('error', () => undefined);
    if (r.signal?.aborted) throw new TscError('BUILD_FAILED', 'the build was interrupted');
    const started = await startContainer(spec, { stdin: 'ignore', stdout: writer, stderr: writer });
    closeSync(writer);
    writer = undefined;
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      const c = started.child;
      if (c.exitCode !== null || c.signalCode !== null) resolve({ code: c.exitCode, signal: c.signalCode });
      else c.once('exit', (code, signal) => resolve({ code, signal }));
    });
    const onAbort = () => void stopContainer(spec, started.pid, 'SIGKILL', 0).catch(() => undefined);
    r.signal?.addEventListener('abort', onAbort, { once: true });
    let res: { code: number | null; signal: NodeJS.Signals | null };
    try {
      res = await exited;
    } finally {
      r.signal?.removeEventListener('abort', onAbort);
    }
    // every process of the container gone (its mount namespace, and the overlay, with them)
    await stopContainer(spec, 0, 'SIGKILL', 0);
    await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 2000))]);
    if (pending) r.onLine(pending);
    if (r.signal?.aborted) throw new TscError('BUILD_FAILED', 'the build was interrupted');
    const upper = path.join(r.scratch, `${r.id}.upper`);
    renameSync(path.join(bundleDir, 'upper'), upper);
    return { exitCode: res.code, signal: res.signal, upper };
  } finally {
    reader?.destroy();
    if (writer !== undefined) closeSync(writer);
    await removeContainer(spec).catch(() => undefined);
    rmSync(bundleDir, { recursive: true, force: true });
    rmSync(fifo, { force: true });
    if (attached) {
      try {
        disconnectContainer({ netnsPath: netnsFile, container: r.id, networks: [r.network.ensure()] });
      } catch {
        /* the build's cleanup removes what is left of its network */
      }
    } else if (madeNetns) deleteNetns(netnsFile);
  }
}
