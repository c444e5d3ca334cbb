/**
 * An open project record for one command run: the record in memory plus serialized writes.
 * Actions of a plan run in parallel and each records its result; doing read-modify-write on
 * the file from each of them would lose updates, so every change goes through one queue here
 * and is written atomically before the next change starts. The caller holds the project lock.
 */
import { loadProjectState, writeProjectState } from './store.js';
import type { ProjectState } from './schema.js';

export class ProjectStore {
  readonly root: string;
  readonly project: string;
  private current: ProjectState;
  private queue: Promise<void> = Promise.resolve();

  private constructor(root: string, project: string, state: ProjectState) {
    this.root = root;
    this.project = project;
    this.current = state;
  }

  /** Loads the record (or starts an empty one; nothing is written until the first update). */
  static async open(root: string, project: string): Promise<ProjectStore> {
    return new ProjectStore(root, project, await loadProjectState(root, project));
  }

  /** A deep copy of the record as last written (or loaded). */
  snapshot(): ProjectState {
    return structuredClone(this.current);
  }

  /**
   * Applies `change` to a copy of the record and writes it; changes run one at a time in call
   * order. If `change` throws or the write fails, the record stays as it was and the error is
   * returned to this caller only (later changes still run).
   */
  update<T>(change: (state: ProjectState) => T | Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      const next = structuredClone(this.current);
      const result = await change(next);
      await writeProjectState(this.root, next);
      this.current = next;
      return result;
    };
    const p = this.queue.then(run);
    this.queue = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  }

  /** Resolves when every queued change has been written. */
  async flush(): Promise<void> {
    await this.queue;
  }
}
