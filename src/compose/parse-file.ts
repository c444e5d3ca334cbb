/**
 * Stage "per file" (first half): parse (yaml.ts), interpolate (interpolate.ts) and validate
 * (validate.ts) one compose file, once per load: the result is cached by absolute path.
 */
import { TscError } from '../common/errors.js';
import { interpolateTree } from './interpolate.js';
import type { LoadContext, Obj, Path } from './load-context.js';
import { formatPath, type SourceMap } from './position.js';
import { checkUnknownKeys, validateFile } from './validate.js';
import { readUserFile } from './user-file.js';
import { parseComposeYaml } from './yaml.js';

export function loadRawFile(file: string, ld: LoadContext): { data: Obj; positions: SourceMap } {
  const hit = ld.cache.get(file);
  if (hit) return hit;
  const parsed = parseComposeYaml(readUserFile(file, 'compose file'), file, ld.budget);
  const label = (p: Path): string => {
    const pos = parsed.positions.find(p);
    return `${pos ? `${file}:${pos.line}:${pos.col}` : file} ${formatPath(p) || '(top level)'}`;
  };
  if (Object.keys(parsed.data as Obj).length > 0) ld.nonEmpty = true;
  let data: Obj;
  try {
    data = (ld.raw ? parsed.data : interpolateTree(parsed.data, ld.interp, [], label)) as Obj;
  } catch (e) {
    // an unknown key (`pre_start:`) is the real problem, not the syntax of its value
    if (e instanceof TscError && e.code === 'SPEC_INTERPOLATION') checkUnknownKeys(parsed.data, { file, positions: parsed.positions });
    throw e;
  }
  validateFile(data, { file, positions: parsed.positions });
  const out = { data, positions: parsed.positions };
  ld.cache.set(file, out);
  return out;
}
