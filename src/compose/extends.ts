/** Stage "per file" (extends): a service's `extends`, resolved recursively, within its file or from another one. */
import path from 'node:path';

import { canonicalService } from './canonical.js';
import { isObj, specError, type CanonContext } from './canonical-values.js';
import { countNodes, LIMITS, spend } from './limits.js';
import { hintFor, type LoadContext, type Obj } from './load-context.js';
import { mergeService } from './merge.js';
import { loadRawFile } from './parse-file.js';

const canonicalFiles = new WeakMap<LoadContext['cache'], Map<string, Record<string, Obj>>>();

/** Resolves `extends` for one service of a file (recursively, across files). */
export function resolveExtends(name: string, canon: Record<string, Obj>, file: string, ld: LoadContext, stack: string[], memo: Map<string, Obj>): Obj {
  const id = `${file}#${name}`;
  const hit = memo.get(id);
  if (hit) return hit;
  const svc = canon[name];
  const ext = svc.extends as Obj | undefined;
  if (!ext) {
    memo.set(id, svc);
    return svc;
  }
  const { positions } = loadRawFile(file, ld);
  const ctx = { file, positions };
  if (stack.includes(id)) {
    throw specError(ctx, ['services', name, 'extends'], `extends cycle: ${[...stack, id].map((s) => s.replace(/^.*[\\/]/, '')).join(' -> ')}`);
  }
  if (stack.length >= LIMITS.extendsDepth) {
    throw specError(
      ctx,
      ['services', name, 'extends'],
      `extends chain longer than ${LIMITS.extendsDepth} services (from ${stack[0].replace(/^.*[\\/]/, '')})`,
      'no project needs a chain that long; let services extend a common base instead',
    );
  }
  const baseName = String(ext.service);
  let base: Obj;
  if (ext.file !== undefined) {
    const other = path.resolve(path.dirname(file), String(ext.file));
    const raw = loadRawFile(other, ld);
    const services = isObj(raw.data.services) ? raw.data.services : {};
    if (!Object.hasOwn(services, baseName)) {
      throw specError(
        ctx,
        ['services', name, 'extends', 'service'],
        `service ${JSON.stringify(baseName)} not found in ${other}`,
        hintFor(baseName, Object.keys(services)),
      );
    }
    // Paths in the extended file stay relative to that file.
    const otherCtx: CanonContext = {
      baseDir: path.dirname(other),
      file: other,
      positions: raw.positions,
      env: ld.lookupValue,
      raw: ld.raw,
      keepPaths: ld.keepPaths,
      budget: ld.budget,
    };
    // canonicalized once per file and load: a file many services extend is not redone for each
    let perLoad = canonicalFiles.get(ld.cache);
    if (!perLoad) canonicalFiles.set(ld.cache, (perLoad = new Map()));
    let otherCanon = perLoad.get(other);
    if (!otherCanon) {
      otherCanon = {};
      for (const [n, s] of Object.entries(services)) otherCanon[n] = canonicalService((s ?? {}) as Obj, otherCtx, ['services', n]);
      perLoad.set(other, otherCanon);
    }
    base = resolveExtends(baseName, otherCanon, other, ld, [...stack, id], memo);
  } else {
    if (!Object.hasOwn(canon, baseName)) {
      throw specError(
        ctx,
        ['services', name, 'extends', 'service'],
        `service ${JSON.stringify(name)} extends unknown service ${JSON.stringify(baseName)}`,
        hintFor(baseName, Object.keys(canon)),
      );
    }
    base = resolveExtends(baseName, canon, file, ld, [...stack, id], memo);
  }
  const child = { ...svc };
  delete child.extends;
  const baseCopy = { ...base };
  delete baseCopy.extends;
  const merged = mergeService(baseCopy, child);
  const pos = positions.find(['services', name, 'extends']);
  spend(ld.budget, countNodes(merged), pos ? `${pos.file}:${pos.line}:${pos.col}` : file, 'extends copies its base services');
  memo.set(id, merged);
  return merged;
}
