/** The ContainerRuntime of a real supervisor: src/engine's container lifecycle. */
import type { ChildProcess } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { TscError } from '../common/errors.js';
import * as engine from '../engine/index.js';
import type { ContainerSpec } from '../engine/spec.js';
import type { ContainerIo, ContainerRuntime, ExecRequest, ExitStatus, StartedContainer } from './runtime.js';

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
    async isOomKilled(spec) {
      return engine.isOomKilled(spec, opts);
    },
    exec(spec: ContainerSpec, pid: number, req: ExecRequest): ChildProcess {
      const exec = (engine as Record<string, unknown>).execInContainer as
        | ((target: { pid: number; cgroupPath: string }, proc: ExecRequest & { tty: boolean }, io: unknown) => ChildProcess)
        | undefined;
      if (typeof exec !== 'function') {
        throw new TscError('ENGINE_EXEC', `container ${spec.id}: this build of the engine cannot run a process inside a container (no execInContainer)`);
      }
      return exec({ pid, cgroupPath: spec.cgroupPath }, { ...req, tty: false }, { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
    },
  };
}
