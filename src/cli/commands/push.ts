/**
 * `tscompose push [SERVICE...]` (Compose v2: each service's `image:` goes to its registry;
 * services without `image:` are skipped) and `tscompose image push REF`. Progress per image
 * through the CLI's progress (PushProgress sums the layer events into one line).
 */
import type { Command } from 'commander';

import { TscError } from '../../common/errors.js';
import { stateRoot } from '../../common/paths.js';
import {
  familiarName,
  openImageStore,
  parseReference,
  PushProgress,
  type ImageStore,
  type PushEvent,
  type PushOptions,
  type PushResult,
} from '../../images/index.js';
import { servicesInScope } from '../../apply/up.js';
import { createProgress } from '../progress.js';
import { withProject } from '../session.js';

/** The chunk size a test (or a registry with a small request limit) sets: TSCOMPOSE_PUSH_CHUNK_SIZE bytes. */
function pushOptions(): Pick<PushOptions, 'chunkSize'> {
  const v = process.env.TSCOMPOSE_PUSH_CHUNK_SIZE;
  if (v === undefined || v === '') return {};
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new TscError('USAGE', `TSCOMPOSE_PUSH_CHUNK_SIZE must be a positive number of bytes, not "${v}"`);
  return { chunkSize: n };
}

interface PushRequest {
  ref: string;
  /** who wants it (services), for messages */
  for?: string;
}

/**
 * Pushes each reference with progress; returns what failed. Without `ignoreFailures`, the first
 * failure is thrown once every push has ended (pushes of different images run at once).
 */
async function pushAll(store: ImageStore, reqs: PushRequest[], o: { quiet?: boolean; ignoreFailures?: boolean }): Promise<PushResult[]> {
  const progress = createProgress(
    reqs.map((r) => ({ id: `push:${r.ref}`, title: `Image ${r.ref}` })),
    { quiet: o.quiet },
  );
  const results: PushResult[] = [];
  const errors: TscError[] = [];
  try {
    await Promise.all(
      reqs.map(async (r) => {
        const id = `push:${r.ref}`;
        progress.begin(id, `Image ${r.ref}`);
        const status = new PushProgress();
        try {
          results.push(await store.push(r.ref, { ...pushOptions(), onProgress: (ev: PushEvent) => progress.update(id, status.update(ev)) }));
          progress.done(id, 'Pushed');
        } catch (e) {
          const err = e instanceof TscError ? e : new TscError('INTERNAL', String(e), { cause: e });
          progress.fail(id, err.message);
          errors.push(r.for ? new TscError(err.code, `pushing image "${r.ref}" for service ${r.for}: ${err.message}`, { hint: err.hint, cause: err }) : err);
        }
      }),
    );
  } finally {
    await progress.finish();
  }
  if (errors.length > 0) {
    if (!o.ignoreFailures) throw errors[0];
    for (const e of errors) process.stderr.write(`warning: ${e.message}\n`);
  }
  return results;
}

/** `image push REF` (with `-a`, every tag of REF's repository). */
export function registerImagePush(image: Command): void {
  image
    .command('push')
    .description('Upload an image to a registry')
    .argument('<image>', 'name[:tag] as tagged in the store, e.g. registry.example.com/team/app:v1')
    .option('-a, --all-tags', 'Push all tags of the repository')
    .option('-q, --quiet', 'Suppress verbose output')
    .action(async (ref: string, opts: { allTags?: boolean; quiet?: boolean }) => {
      const store = openImageStore(stateRoot());
      let refs = [ref];
      if (opts.allTags) {
        const name = parseReference(ref).name;
        refs = [...new Set(store.list().flatMap((im) => im.repoTags.filter((t) => t.startsWith(`${name}:`))))].sort();
        if (refs.length === 0) throw new TscError('IMAGE_NOT_FOUND', `no tags of ${familiarName(name)} in the local store`);
      }
      const results = await pushAll(
        store,
        refs.map((r) => ({ ref: r })),
        { quiet: opts.quiet },
      );
      for (const r of results) console.log(opts.quiet ? `${familiarName(r.ref)}` : `${familiarName(r.ref)}: digest: ${r.digest} size: ${r.size}`);
    });
}

/** Compose's `push`: the `image:` of each service in scope. */
export function registerPush(program: Command): void {
  program
    .command('push')
    .description('Push service images')
    .argument('[services...]')
    .option('-q, --quiet', 'Push without printing progress information')
    .option('--ignore-push-failures', 'Push what it can and ignores images with push failures')
    .option('--include-deps', 'Also push images of services declared as dependencies')
    .action(async (services: string[], o: { quiet?: boolean; ignorePushFailures?: boolean; includeDeps?: boolean }, cmd: Command) => {
      await withProject(cmd, { lock: false, services }, async (rt) => {
        const byRef = new Map<string, string[]>();
        for (const s of servicesInScope(rt.project, services, !o.includeDeps)) {
          if (!s.image) continue;
          byRef.set(s.image, [...(byRef.get(s.image) ?? []), s.name]);
        }
        await pushAll(
          rt.images,
          [...byRef].map(([ref, svcs]) => ({ ref, for: svcs.join(', ') })),
          { quiet: o.quiet, ignoreFailures: o.ignorePushFailures },
        );
      });
    });
}
