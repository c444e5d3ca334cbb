/**
 * A ContainerRuntime that runs the spec's command as a plain host process (no namespaces, no
 * cgroup), so the supervisor's own logic (stdio FIFOs, logs, exit codes, restarts, health,
 * re-adoption) is tested without root. The real engine is exercised by the integration suite.
 */
import { spawn } from 'node:child_process';
import type { ContainerSpec } from '../../../src/engine/spec.js';
import type { ContainerIo, ContainerRuntime, ExecHandle, ExecRequest, StartedContainer } from '../../../src/supervisor/runtime.js';
import { processAlive, processStartTime } from '../../../src/engine/procfs.js';
import { constants as osConstants } from 'node:os';

export class HostRuntime implements ContainerRuntime {
  readonly started: number[] = [];

  async start(spec: ContainerSpec, io: ContainerIo): Promise<StartedContainer> {
    const [cmd, ...args] = spec.process.args;
    const child = spawn(cmd, args, {
      stdio: [io.stdin ?? 'ignore', io.stdout, io.stderr],
      env: Object.fromEntries(spec.process.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
      cwd: spec.process.cwd,
      detached: true, // own process group, so stop can kill every process of the "container"
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once('spawn', () => resolve(child.pid!));
      child.once('error', reject);
    });
    const exited = new Promise<{ exitCode: number }>((resolve) => {
      child.once('exit', (code, sig) => {
        resolve({ exitCode: code ?? 128 + (sig ? osConstants.signals[sig] : 0) });
      });
    });
    this.started.push(pid);
    return { pid, startTime: processStartTime(pid)!, exited };
  }

  async stop(_spec: ContainerSpec, pid: number, signal: number, graceMs: number): Promise<void> {
    if (pid <= 0) return; // no cgroup to sweep here
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && processAlive(pid)) await new Promise((r) => setTimeout(r, 20));
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }

  async kill(_spec: ContainerSpec, pid: number, signal: number): Promise<void> {
    process.kill(pid, signal);
  }

  async remove(): Promise<void> {}

  /** SIGSTOP/SIGCONT to the process group stand in for the freezer */
  async pause(): Promise<void> {
    for (const pid of this.started) this.signalGroup(pid, 'SIGSTOP');
  }

  async unpause(): Promise<void> {
    for (const pid of this.started) this.signalGroup(pid, 'SIGCONT');
  }

  private signalGroup(pid: number, sig: NodeJS.Signals): void {
    try {
      process.kill(-pid, sig);
    } catch {
      /* gone */
    }
  }

  async isOomKilled(): Promise<boolean> {
    return false;
  }

  async exec(_spec: ContainerSpec, _pid: number, req: ExecRequest, io: { stdout: number; stderr: number }): Promise<ExecHandle> {
    const [cmd, ...args] = req.args;
    const child = spawn(cmd, args, { stdio: ['ignore', io.stdout, io.stderr], cwd: req.cwd });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', reject);
    });
    const exited = new Promise<{ exitCode: number }>((resolve) => {
      child.once('exit', (code, sig) => resolve({ exitCode: code ?? 128 + (sig ? osConstants.signals[sig] : 0) }));
    });
    return { exited, kill: () => child.kill('SIGKILL') };
  }

  /** Kills every process this runtime started (test cleanup). */
  killAll(): void {
    for (const pid of this.started) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}
