/**
 * A service's `build:` section, as compose-go normalizes it: the short form (`build: ./dir`)
 * becomes `{context}`, the context and local `additional_contexts` are made absolute against
 * the project directory (remote contexts are kept as written), `args`, `labels` and
 * `additional_contexts` lists become mappings, sizes and booleans get their types; then, once
 * the files are merged, `dockerfile` defaults to "Dockerfile" and `args` declared without a
 * value take it from the environment (left null when it is unset, as Compose does).
 *
 * Whether tscompose can honour a key (`ssh`, `secrets`, other platforms, ...) is decided when a
 * build is asked for (src/apply/build-request.ts), not here: `config` and `down` of a project
 * with such a key keep working, as in Compose.
 */
import { bool, bytes, isObj, listOrDict, rawKept, resolveHostPath, specError, strings, type CanonContext, type Obj, type Path } from './canonical-values.js';
import type { SourceMap } from './position.js';

/** Contexts Compose treats as remote (compose-go's isRemoteContext), kept as written. */
export function isRemoteContext(c: string): boolean {
  return /^(https?|git|ssh):\/\//i.test(c) || c.startsWith('github.com/') || c.startsWith('git@');
}

/** An additional context that is not a local directory: a remote context or `scheme:...` (`service:`, `docker-image://`). */
function isNonLocalContext(c: string): boolean {
  return isRemoteContext(c) || c.includes('://') || c.startsWith('service:');
}

/** `build:` as written → its long form (stage "canonicalize"). */
export function canonicalBuild(v: unknown, ctx: CanonContext, p: Path): Obj {
  const b: Obj = typeof v === 'string' ? { context: v } : { ...(v as Obj) };
  const context = String(b.context ?? '.');
  b.context = isRemoteContext(context) ? context : resolveHostPath(context, ctx);
  if (b.args !== undefined) b.args = listOrDict(b.args, ctx, [...p, 'args']);
  if (b.labels !== undefined) b.labels = listOrDict(b.labels, ctx, [...p, 'labels']);
  if (b.additional_contexts !== undefined) {
    const at = [...p, 'additional_contexts'];
    if (!Array.isArray(b.additional_contexts) && !isObj(b.additional_contexts)) {
      throw specError(ctx, at, 'expected a mapping (name: path) or a list of name=path entries');
    }
    const out: Obj = {};
    for (const [name, where] of Object.entries(listOrDict(b.additional_contexts, ctx, at))) {
      if (where === null || where === '') throw specError(ctx, [...at, name], `additional context "${name}" has no path`);
      out[name] = isNonLocalContext(where) || rawKept(where, ctx) ? where : resolveHostPath(where, ctx);
    }
    b.additional_contexts = out;
  }
  for (const k of ['no_cache', 'pull', 'privileged']) if (b[k] !== undefined) b[k] = bool(b[k], ctx, [...p, k]);
  if (b.shm_size !== undefined) b.shm_size = bytes(b.shm_size, ctx, [...p, 'shm_size']);
  for (const k of ['tags', 'platforms', 'cache_from', 'cache_to', 'entitlements']) if (b[k] !== undefined && b[k] !== null) b[k] = strings(b[k]);
  return b;
}

/** The merged `build:` section with Compose's defaults (stage "defaults"). */
export function finalizeBuild(
  service: string,
  build: Obj,
  where: { file: string; positions: SourceMap },
  ld: { strict: boolean; lookupValue: (name: string) => string | undefined },
): Obj {
  const b = { ...build };
  // Compose's default, unless the Dockerfile is inline (the two are mutually exclusive)
  if (b.dockerfile_inline === undefined) b.dockerfile ??= 'Dockerfile';
  else if (ld.strict && b.dockerfile !== undefined)
    throw specError(
      where,
      ['services', service, 'build', 'dockerfile_inline'],
      `service ${JSON.stringify(service)} sets both build.dockerfile and build.dockerfile_inline`,
      'keep one of them',
    );
  if (b.args !== undefined) {
    const args: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(b.args as Record<string, string | null>)) args[k] = v ?? ld.lookupValue(k) ?? null;
    b.args = args;
  }
  return b;
}
