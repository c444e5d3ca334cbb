import { TscError } from '../common/errors.js';
import { layout } from '../common/layout.js';

/** Compose's rule for project names: lowercase letters, digits, dashes and underscores, starting with a letter or digit. */
const PROJECT_NAME = /^[a-z0-9][a-z0-9_-]*$/;

export function validateProjectName(project: string): void {
  if (!PROJECT_NAME.test(project) || project.length > 200) {
    throw new TscError(
      'USAGE',
      `invalid project name "${project}": it must contain only lowercase letters, digits, dashes and underscores, and start with a letter or a digit`,
      {
        hint: 'set a valid name with -p/--project-name, COMPOSE_PROJECT_NAME or the top-level `name:` key',
      },
    );
  }
}

/** `<root>/projects/<project>` (validates the name, so it can never escape the projects folder) */
export function projectDir(root: string, project: string): string {
  validateProjectName(project);
  return layout.project(root, project);
}

/** `<root>/projects/<project>/state.json` */
export function stateFile(root: string, project: string): string {
  validateProjectName(project);
  return layout.stateFile(root, project);
}

/** `<root>/projects/<project>/lock` */
export function lockFile(root: string, project: string): string {
  validateProjectName(project);
  return layout.projectLock(root, project);
}
