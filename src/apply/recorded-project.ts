/**
 * A project as its record describes it, for the verbs Compose lets act on a project by name
 * alone (`-p NAME down`, `ps`, `logs`, `stop`, ... where no compose file is found). Compose
 * rebuilds such a project from its containers' labels; tscompose from the project record: the
 * services that have containers, each with the definition recorded when its newest container
 * was created and the depends_on label of that container's run configuration; the recorded
 * networks and volumes, under the names they were made with. No record: an empty project.
 */
import { restoreProject, restoreService, type DependsOn, type Project } from '../compose/index.js';
import { readProjectState, type ContainerRecord } from '../state/index.js';
import { readRunConfig } from './records.js';
import { DEPENDS_ON_LABEL, parseDependsOnLabel } from './run-config.js';

/** A service's own containers describe it better than its one-offs, the newest best. */
function describesBetter(a: ContainerRecord, b: ContainerRecord): boolean {
  if (a.oneOff !== b.oneOff) return !a.oneOff;
  return a.created > b.created;
}

export async function recordedProject(root: string, name: string): Promise<Project> {
  const state = await readProjectState(root, name);
  const newest = new Map<string, ContainerRecord>();
  for (const c of Object.values(state?.containers ?? {})) {
    const seen = newest.get(c.service);
    if (!seen || describesBetter(c, seen)) newest.set(c.service, c);
  }
  const services = [...newest.values()].map((c) => {
    let dependsOn: Record<string, DependsOn> = {};
    try {
      dependsOn = parseDependsOnLabel(readRunConfig({ root, name }, c).labels?.[DEPENDS_ON_LABEL]);
    } catch {
      /* created only in part (a crash): no run configuration, nothing known of its dependencies */
    }
    return restoreService(c.service, c.definition, dependsOn);
  });
  return restoreProject({
    name,
    workingDir: state?.workingDir,
    composeFiles: state?.configFiles,
    services,
    networks: state?.networks ?? {},
    volumes: state?.volumes ?? {},
  });
}
