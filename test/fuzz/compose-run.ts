/** Runs a generated Compose case in-process: the loader, the renderers and --scale, as `config` and `plan` would. */
import { parseScale } from '../../src/cli/session.js';
import { loadProject, renderConfig, renderEnvironment, type LoadOptions } from '../../src/compose/index.js';
import { classifyError, materialize, type Result } from './classify.js';
import type { ComposeCase } from './compose-gen.js';

/** The LoadOptions and --scale values the CLI would make of a case's command line (parsed loosely, as a user types it). */
function optionsOf(c: ComposeCase, dir: string): { opts: LoadOptions; scale: string[] } {
  const opts: LoadOptions = { workingDir: dir, env: c.env };
  const scale: string[] = [];
  const a = c.args;
  for (let i = 0; i < a.length; i++) {
    const next = (): string => a[++i] ?? '';
    switch (a[i]) {
      case '-f':
        (opts.files ??= []).push(next());
        break;
      case '--env-file':
        (opts.envFiles ??= []).push(next());
        break;
      case '-p':
        opts.projectName = next();
        break;
      case '--profile':
        (opts.profiles ??= []).push(next());
        break;
      case '--scale':
        scale.push(next());
        break;
      case '--no-interpolate':
        opts.interpolate = false;
        break;
      case '--no-consistency':
        opts.consistency = false;
        break;
      case '--no-path-resolution':
        opts.resolvePaths = false;
        break;
    }
  }
  return { opts, scale };
}

/** Every object of the model has the prototype of a plain object or array (or none). */
export function prototypeProblem(v: unknown): string | undefined {
  const stack: unknown[] = [v];
  const seen = new Set<unknown>();
  while (stack.length) {
    const x = stack.pop();
    if (x === null || typeof x !== 'object' || seen.has(x)) continue;
    seen.add(x);
    const proto = Object.getPrototypeOf(x);
    if (Array.isArray(x)) {
      if (proto !== Array.prototype) return 'an array of the model has a changed prototype';
    } else if (proto !== Object.prototype && proto !== null) return `an object of the model has the prototype ${String(proto?.constructor?.name)}`;
    stack.push(...Object.values(x));
  }
  return undefined;
}

const objectKeys = Object.getOwnPropertyNames(Object.prototype).join();
const arrayKeys = Object.getOwnPropertyNames(Array.prototype).join();

/** Writes the case into `dir`, loads it, renders it as `config` does, parses --scale; the outcome's class. */
export async function runComposeInProcess(c: ComposeCase, dir: string): Promise<Result> {
  materialize(c.files, dir);
  const { opts, scale } = optionsOf(c, dir);
  try {
    if (scale.length) parseScale(scale);
    const project = await loadProject(opts);
    renderConfig(project, 'yaml');
    const json = renderConfig(project, 'json');
    renderEnvironment(project);
    const problem = prototypeProblem(project) ?? prototypeProblem(JSON.parse(json));
    if (problem) return { outcome: 'internal error', detail: problem };
    return { outcome: 'accepted', detail: '' };
  } catch (e) {
    return classifyError(e);
  } finally {
    if (Object.getOwnPropertyNames(Object.prototype).join() !== objectKeys || Object.getOwnPropertyNames(Array.prototype).join() !== arrayKeys) {
      // eslint-disable-next-line no-unsafe-finally
      return { outcome: 'internal error', detail: 'Object.prototype or Array.prototype was changed' };
    }
  }
}
