/**
 * What the runtime's parts share: the project, its record and the way to its supervisor.
 * ProjectRuntime (runtime.ts) is the one implementation; the parts (containers, networks,
 * volumes, removal, observe, records) take this interface, so none of them imports another's
 * class and no import circle forms.
 */
import type { Project } from '../compose/index.js';
import type { ImageStore } from '../images/index.js';
import type { ProjectState } from '../state/index.js';
import type { SupervisorClient } from '../supervisor/index.js';

export interface RuntimeContext {
  readonly root: string;
  readonly project: Project;
  /** the project name */
  readonly name: string;
  /** the project record, changed in place and written by save() */
  state: ProjectState;
  readonly images: ImageStore;
  /** writes the record (serialized; see RecordSaver) */
  save(): Promise<void>;
  /** the project's supervisor, started when not running */
  supervisor(): Promise<SupervisorClient>;
  /** the running supervisor, without starting one */
  existingSupervisor(): Promise<SupervisorClient | null>;
}
