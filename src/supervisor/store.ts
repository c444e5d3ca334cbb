/**
 * The supervisor's records on disk, and their one writer. A container's status record
 * (status.json in its bundle) changes only through transition() or update() here: the move is
 * checked against the lifecycle table (lifecycle.ts), applied in memory and written once,
 * atomically (src/sys/files.ts). Also run.json (the run request, root-only: it holds the
 * environment) and the project's index supervised.json (container id → bundle dir).
 *
 * A failed status write (a full disk) is logged, not thrown: the container's state in memory is
 * the truth while this supervisor runs. The container is then "unsaved": `flush()` writes it
 * again before the supervisor answers the next request, and the verb that made the change fails
 * with the write's error (`saved`: DISK_FULL), so the user learns that the record on disk
 * is behind instead of a success.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../sys/files.js';
import { assertTransition, nextStatus, type LifeState, type StatusPatch } from './lifecycle.js';
import type { Managed } from './managed.js';
import { readIndexFile } from './records.js';
import type { ContainerStatus, RunConfig } from './types.js';

/** Records hold the container's environment: readable by root only. */
const RECORD_MODE = 0o600;

export class RecordStore {
  /** containers whose last status write failed, with its error */
  private readonly unsaved = new Map<Managed, unknown>();

  constructor(
    /** supervised.json */
    readonly indexFile: string,
    private readonly log: (line: string) => void,
  ) {}

  /**
   * Moves the container to `to` (refused with an INTERNAL error when the lifecycle does not
   * allow it) with `patch`, and persists the record once. `removed` deletes nothing: the caller
   * removes the files; it only marks the container gone so nothing writes its record again.
   */
  transition(m: Managed, to: LifeState, patch: StatusPatch = {}): ContainerStatus {
    const from: LifeState = m.removed ? 'removed' : m.status.state;
    if (to === 'removed') {
      assertTransition(m.status.id, from, to);
      m.removed = true;
      return m.status;
    }
    m.status = nextStatus(m.status, from, to, patch);
    this.persist(m);
    return m.status;
  }

  /** Changes fields of the status without a move (health, stoppedByUser), and persists once. */
  update(m: Managed, patch: StatusPatch): ContainerStatus {
    if (m.removed) return m.status;
    m.status = { ...m.status, ...patch };
    this.persist(m);
    return m.status;
  }

  /** Writes a new container's first record (a run request: state created). */
  create(m: Managed): void {
    writeFileAtomicSync(m.files.run, JSON.stringify(m.config, null, 1), { mode: RECORD_MODE });
    this.persist(m);
  }

  private persist(m: Managed): void {
    try {
      // rewritten on every change and repaired by the next supervisor: no fsync
      writeFileAtomicSync(m.files.status, JSON.stringify(m.status, null, 1), { mode: RECORD_MODE, durable: false });
      this.unsaved.delete(m);
    } catch (err) {
      this.unsaved.set(m, err);
      this.log(`container ${m.status.id}: saving status failed: ${(err as Error).message}`);
    }
  }

  /** Writes again the status records whose last write failed (of containers not removed since). */
  flush(): void {
    for (const m of [...this.unsaved.keys()]) {
      if (m.removed) this.unsaved.delete(m);
      else this.persist(m);
    }
  }

  /** The container's status; throws the error of its last status write when it failed (its record on disk is behind). */
  saved(m: Managed): ContainerStatus {
    if (this.unsaved.has(m) && !m.removed) throw this.unsaved.get(m);
    return m.status;
  }

  /** The records of one container, as an earlier supervisor left them. */
  static readRecords(files: { run: string; status: string }): { config: RunConfig; status: ContainerStatus } {
    return {
      config: JSON.parse(readFileSync(files.run, 'utf8')) as RunConfig,
      status: JSON.parse(readFileSync(files.status, 'utf8')) as ContainerStatus,
    };
  }

  readIndex(): Record<string, string> {
    return readIndexFile(this.indexFile);
  }

  writeIndex(containers: Iterable<[string, Managed]>): void {
    const index: Record<string, string> = {};
    for (const [id, m] of containers) index[id] = m.config.spec.bundleDir;
    writeFileAtomicSync(this.indexFile, JSON.stringify({ containers: index }, null, 1), { mode: RECORD_MODE });
  }
}
