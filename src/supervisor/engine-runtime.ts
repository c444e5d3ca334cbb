/** The ContainerRuntime of a real supervisor: src/engine's container lifecycle. */
import { constants as osConstants } from 'node:os';
import * as engine from '../engine/index.js';
import type { ContainerSpec } from '../engine/spec.js';
import type { ContainerIo, ContainerRuntime, ExecHandle, ExecRequest, ExitStatus, StartedContainer } from './runtime.js';

function exitOf(code: number | null, signal: NodeJS.Signals | null): ExitStatus {
  if (code !== null) return { exitCode: code };
  const n = signal ? osConstants.signals[signal] : undefined;
  return { exitCode: 128 + (n ?? 0) };
}

export function engineRuntime(opts: engine.EngineOptions = {}): ContainerRuntime {
  return {
    async start(spec: ContainerSpec, io: ContainerIo): Promise<StartedContainer> {
      const started = await engine.startContainer(spec, { stdin: io.stdin ?? 'ignore', stdout: io.stdout, stderr: io.stderr }, opts);
      const child = started.child;
      const exited = new Promise<ExitStatus>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve(exitOf(child.exitCode, child.signalCode));
        else child.once('exit', (code, signal) => resolve(exitOf(code, signal)));
      });
      return { pid: started.pid, startTime: started.startTime, exited };
    },
    async stop(spec, pid, signal, graceMs) {
      await engine.stopContainer(spec, pid, signal, graceMs, opts);
    },
    async stopMany(items) {
      await engine.stopContainers(items, opts);
    },
    async kill(spec, pid, signal) {
      // Docker's kill signals the container's first process; without it, every process left.
      if (pid > 0 && engine.processAlive(pid)) {
        try {
          process.kill(pid, signal);
          return;
        } catch {
          /* exited meanwhile */
        }
      }
      engine.killContainer(spec, signal, opts);
    },
    async remove(spec) {
      await engine.removeContainer(spec, opts);
    },
    async pause(spec) {
      await engine.pauseContainer(spec, opts);
    },
    async unpause(spec) {
      await engine.unpauseContainer(spec, opts);
    },
    async isOomKilled(spec) {
      return engine.isOomKilled(spec, opts);
    },
    async exec(spec: ContainerSpec, pid: number, req: ExecRequest, io: { stdout: number; stderr: number }): Promise<ExecHandle> {
      const p = spec.process;
      const child = await engine.execInContainer(
        { pid, cgroupPath: spec.cgroupPath, id: spec.id },
        {
          args: req.args,
          env: req.env,
          cwd: req.cwd,
          user: req.user,
          tty: false,
          additionalGroups: p.additionalGroups,
          noNewPrivileges: p.noNewPrivileges,
          capabilities: p.capabilities,
          privileged: spec.privileged,
          seccomp: spec.seccomp,
        },
        { stdin: 'ignore', stdout: io.stdout, stderr: io.stderr },
        opts,
      );
      const exited = new Promise<ExitStatus>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) resolve(exitOf(child.exitCode, child.signalCode));
        else child.once('exit', (code, signal) => resolve(exitOf(code, signal)));
      });
      return {
        exited,
        kill: () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        },
      };
    },
  };
}
