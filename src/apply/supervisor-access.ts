/**
 * The way to the project's supervisor: one client per runtime, the supervisor started once even
 * when many operations ask at the same time; and what to ask the kernel when it is not running.
 */
import { TscError } from '../common/errors.js';
import { cgroupPathFor, containerCgroup } from '../engine/index.js';
import type { ContainerRecord } from '../state/index.js';
import { connectSupervisor, ensureSupervisor, type SupervisorClient } from '../supervisor/index.js';

export class SupervisorAccess {
  private client?: SupervisorClient;
  private starting?: Promise<SupervisorClient>;

  constructor(
    private readonly root: string,
    private readonly project: string,
  ) {}

  /** The project's supervisor, started once even when many operations ask at the same time. */
  supervisor(): Promise<SupervisorClient> {
    this.starting ??= ensureSupervisor(this.root, this.project).then(
      (c) => (this.client = c),
      (err) => {
        this.starting = undefined;
        throw err;
      },
    );
    return this.starting;
  }

  /** The running supervisor, without starting one. */
  async existing(): Promise<SupervisorClient | null> {
    if (this.client) return this.client;
    if (this.starting) return this.starting;
    const c = await connectSupervisor(this.root, this.project);
    if (c) this.client = c;
    return c;
  }

  close(): void {
    this.client = undefined;
    this.starting = undefined;
  }
}

/** Whether processes of the container are alive (whoever started them). */
export function hasProcesses(project: string, record: ContainerRecord): boolean {
  const cg = containerCgroup(cgroupPathFor(project, record.name));
  return cg.exists() && !cg.isEmpty();
}

/** The supervisor does not know the container (never started, or a crash cut its creation short). */
export function isUnknownContainer(err: unknown): boolean {
  return err instanceof TscError && err.code === 'NO_SUCH_SERVICE';
}
