/**
 * `tscompose image ls|inspect|rm|prune|load|save|tag|pull` (push: push.ts): the local image store. Also exports what the
 * project-level `pull` and `images` commands reuse: progress display for pulls and the image
 * table.
 */
import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Listr } from 'listr2';

import { TscError } from '../../common/errors.js';
import { stateRoot } from '../../common/paths.js';
import { familiarName, openImageStore, parseReference, type ImageRecord, type ImageStore, type PullEvent } from '../../images/index.js';
import { registerImagePush } from './push.js';

export interface ImageCommandDeps {
  /** ids of images that containers use; `image rm` and `image prune` never remove them */
  imagesInUse?: (root: string) => Iterable<string> | Promise<Iterable<string>>;
}

function requireRoot(verb: string): void {
  if (process.getuid?.() !== 0) {
    throw new TscError('NOT_ROOT', `tscompose image ${verb} must run as root (layers keep file ownership, device nodes and xattrs)`, {
      hint: 'run it with sudo',
    });
  }
}

export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2)}${units[i]}`;
}

export function humanAge(iso: string | undefined, now = Date.now()): string {
  if (!iso) return 'N/A';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'N/A';
  const s = Math.max(0, Math.round((now - t) / 1000));
  const steps: [number, string][] = [
    [60 * 60 * 24 * 365, 'year'],
    [60 * 60 * 24 * 30, 'month'],
    [60 * 60 * 24 * 7, 'week'],
    [60 * 60 * 24, 'day'],
    [60 * 60, 'hour'],
    [60, 'minute'],
  ];
  for (const [n, unit] of steps) {
    if (s >= n) {
      const k = Math.floor(s / n);
      return `${k} ${unit}${k > 1 ? 's' : ''} ago`;
    }
  }
  return 'Less than a minute ago';
}

/** One row per tag (or one `<none>` row), as `docker image ls` prints them. */
export function imageRows(images: ImageRecord[]): { repository: string; tag: string; id: string; created: string; size: string }[] {
  const rows = [];
  for (const im of images) {
    const short = im.id.slice(7, 19);
    const tags = im.repoTags.length ? im.repoTags : ['<none>:<none>'];
    for (const t of tags) {
      const i = t.lastIndexOf(':');
      rows.push({
        repository: t === '<none>:<none>' ? '<none>' : familiarName(t.slice(0, i)),
        tag: t.slice(i + 1),
        id: short,
        created: humanAge(im.created),
        size: humanSize(im.size),
      });
    }
  }
  return rows;
}

export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] + 3))).join('');
  return [line(header), ...rows.map(line)].join('\n');
}

export function formatImageTable(images: ImageRecord[]): string {
  return formatTable(
    ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'],
    imageRows(images).map((r) => [r.repository, r.tag, r.id, r.created, r.size]),
  );
}

/** Tracks one pull's layers and renders them as lines (for a listr2 task's output). */
class PullView {
  private order: string[] = [];
  private state = new Map<string, { status: string; current: number; total: number }>();
  handle(ev: PullEvent): boolean {
    const set = (d: string, status: string, current?: number, total?: number): void => {
      const s = this.state.get(d) ?? { status, current: 0, total: 0 };
      s.status = status;
      if (current !== undefined) s.current = current;
      if (total !== undefined) s.total = total;
      this.state.set(d, s);
    };
    switch (ev.kind) {
      case 'resolved':
        this.order = ev.layers.map((l) => l.digest);
        for (const l of ev.layers) set(l.digest, 'Waiting', 0, l.size);
        return true;
      case 'layer-present':
        set(ev.digest, 'Already exists');
        return true;
      case 'download-start':
        if (this.state.has(ev.digest)) set(ev.digest, 'Downloading', 0, ev.size);
        return true;
      case 'download-resume':
        if (this.state.has(ev.digest)) set(ev.digest, 'Downloading', ev.from);
        return true;
      case 'download-progress':
        if (this.state.has(ev.digest)) set(ev.digest, 'Downloading', ev.current, ev.total);
        return false;
      case 'download-done':
        if (this.state.has(ev.digest)) set(ev.digest, 'Download complete');
        return true;
      case 'unpack-start':
        set(ev.digest, 'Extracting');
        return true;
      case 'unpack-done':
        set(ev.digest, 'Pull complete');
        return true;
      default:
        return false;
    }
  }
  render(): string {
    return this.order
      .map((d) => {
        const s = this.state.get(d)!;
        const bytes = s.status === 'Downloading' ? ` ${humanSize(s.current)}/${humanSize(s.total)}` : '';
        return `${d.slice(7, 19)}: ${s.status}${bytes}`;
      })
      .join('\n');
  }
}

export interface PullProgressOptions {
  platform?: string;
  signal?: AbortSignal;
  /** plain line output even on a terminal */
  plain?: boolean;
}

/**
 * Pulls several images at once with listr2 progress (byte counts per layer on a terminal, one
 * line per step otherwise). Rejects with the first failure after every pull has ended.
 */
export async function pullImagesWithProgress(store: ImageStore, refs: string[], opts: PullProgressOptions = {}): Promise<ImageRecord[]> {
  // a terminal too narrow to draw layer lines (or a pty with no size) gets the plain output
  const tty = Boolean(process.stdout.isTTY) && (process.stdout.columns ?? 0) >= 40 && !opts.plain;
  const results: ImageRecord[] = new Array(refs.length);
  const list = new Listr(
    refs.map((ref, i) => ({
      title: `Pulling ${ref}`,
      rendererOptions: { outputBar: Infinity, persistentOutput: false },
      task: async (_ctx: unknown, task: { title: string; output: string }) => {
        const view = new PullView();
        let last = 0;
        const rec = await store.pull(ref, {
          platform: opts.platform,
          signal: opts.signal,
          onProgress: (ev) => {
            const step = view.handle(ev);
            if (tty) {
              const now = Date.now();
              if (step || now - last > 100) {
                last = now;
                task.output = view.render();
              }
            } else if (step && ev.kind !== 'resolved' && ev.kind !== 'download-start') {
              const line = view
                .render()
                .split('\n')
                .find((l) => 'digest' in ev && l.startsWith(ev.digest.slice(7, 19)));
              if (line) task.output = line;
            }
          },
        });
        results[i] = rec;
        task.title = `Pulled ${ref} (${rec.id.slice(7, 19)})`;
      },
    })),
    {
      concurrent: true,
      exitOnError: false,
      collectErrors: 'minimal',
      renderer: tty ? 'default' : 'simple',
      rendererOptions: tty ? { collapseSubtasks: false } : {},
    } as ConstructorParameters<typeof Listr>[1],
  );
  await list.run().catch(() => undefined);
  if (list.errors.length > 0) {
    const e = list.errors[0].error;
    throw e instanceof TscError ? e : new TscError('INTERNAL', String(e), { cause: e });
  }
  return results;
}

export function registerImage(program: Command, deps: ImageCommandDeps = {}): void {
  const image = program.command('image').description('Manage images in the local store');
  const store = (): ImageStore => openImageStore(stateRoot());
  const inUse = async (): Promise<string[]> => [...((await deps.imagesInUse?.(stateRoot())) ?? [])];

  image
    .command('ls')
    .alias('list')
    .description('List images')
    .argument('[repository]', 'only images of this repository (e.g. busybox, or busybox:1.36)')
    .option('-q, --quiet', 'Only show image IDs')
    .option('--format <format>', 'Format the output (table|json)', 'table')
    .action((repository: string | undefined, opts: { quiet?: boolean; format?: string }) => {
      let images = store().list();
      if (repository) {
        const r = parseReference(repository);
        const exactTag = /:[^/]+$/.test(repository.split('@')[0]);
        images = images
          .map((im) => ({ ...im, repoTags: im.repoTags.filter((t) => (exactTag ? t === r.normalized : t.startsWith(`${r.name}:`))) }))
          .filter((im) => im.repoTags.length > 0);
      }
      if (opts.quiet) {
        for (const id of [...new Set(images.map((i) => i.id.slice(7, 19)))]) console.log(id);
      } else if (opts.format === 'json') {
        console.log(JSON.stringify(images, null, 2));
      } else if (opts.format === 'table' || opts.format === undefined) {
        console.log(formatImageTable(images));
      } else {
        throw new TscError('USAGE', `unknown format "${opts.format}" for image ls`, { hint: 'use table or json' });
      }
    });

  image
    .command('inspect')
    .description('Show the records of one or more images as JSON')
    .argument('<image...>', 'image references or ids')
    .action((refs: string[]) => {
      const s = store();
      const out = refs.map((ref) => {
        const rec = s.get(ref);
        if (!rec) throw new TscError('IMAGE_NOT_FOUND', `no such image: ${ref}`, { hint: 'tscompose image ls lists the images in the store' });
        return { ...rec, rootfs: s.rootfs(rec.id) };
      });
      console.log(JSON.stringify(out, null, 2));
    });

  image
    .command('rm')
    .alias('remove')
    .description('Remove one or more images')
    .argument('<image...>', 'image references or ids')
    .option('-f, --force', 'Remove the image even if several tags name it')
    .action(async (refs: string[], opts: { force?: boolean }) => {
      requireRoot('rm');
      const s = store();
      const used = await inUse();
      for (const ref of refs) {
        const r = await s.remove(ref, { force: opts.force, inUse: used });
        for (const t of r.untagged) console.log(`Untagged: ${familiarName(t)}`);
        for (const d of r.deleted) console.log(`Deleted: ${d}`);
      }
    });

  image
    .command('prune')
    .description('Remove unused images')
    .option('-a, --all', 'Remove all images no container uses, not just untagged ones')
    .option('-f, --force', 'Do not prompt for confirmation (tscompose never prompts)')
    .action(async (opts: { all?: boolean }) => {
      requireRoot('prune');
      const r = await store().prune({ all: opts.all, inUse: await inUse() });
      if (r.deleted.length) {
        console.log('Deleted Images:');
        for (const d of r.deleted) console.log(`deleted: ${d}`);
        console.log('');
      }
      console.log(`Total reclaimed space: ${humanSize(r.reclaimedBytes)}`);
    });

  image
    .command('load')
    .description('Load images from an OCI image-layout archive or a docker save archive')
    .option('-i, --input <file>', 'Read from the tar archive file (gzip allowed) instead of standard input')
    .option('-q, --quiet', 'Suppress the load output')
    .action(async (opts: { input?: string; quiet?: boolean }) => {
      requireRoot('load');
      const s = store();
      let recs: ImageRecord[];
      if (opts.input) recs = await s.load(opts.input);
      else {
        if (process.stdin.isTTY) {
          throw new TscError('USAGE', 'image load needs an archive: give -i FILE or pipe one into standard input', {
            hint: 'tscompose image load -i busybox.tar',
          });
        }
        // the archive is read twice (extract, then verify), so standard input goes to a file first
        mkdirSync(s.blobs.tmpDir, { recursive: true });
        const tmp = path.join(s.blobs.tmpDir, `stdin.${process.pid}.${randomBytes(4).toString('hex')}`);
        try {
          await pipeline(process.stdin, createWriteStream(tmp, { mode: 0o600 }));
          recs = await s.load(tmp);
        } finally {
          rmSync(tmp, { force: true });
        }
      }
      if (opts.quiet) return;
      for (const r of recs) {
        if (r.repoTags.length) for (const t of r.repoTags) console.log(`Loaded image: ${familiarName(t)}`);
        else console.log(`Loaded image ID: ${r.id}`);
      }
    });

  image
    .command('save')
    .description('Save images to a tar archive (docker save layout, also an OCI image layout)')
    .argument('<image...>', 'image references or ids')
    .option('-o, --output <file>', 'Write to a file instead of standard output')
    .action(async (refs: string[], opts: { output?: string }) => {
      const s = store();
      if (!opts.output) {
        if (process.stdout.isTTY) {
          throw new TscError('USAGE', 'image save refuses to write an archive to a terminal: give -o FILE or redirect standard output', {
            hint: 'tscompose image save -o busybox.tar busybox',
          });
        }
        return s.save(refs, process.stdout);
      }
      // written beside the target and renamed into place: an interrupted save leaves no half archive
      const out = path.resolve(opts.output);
      const tmp = path.join(path.dirname(out), `.${path.basename(out)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
      try {
        await s.save(refs, createWriteStream(tmp, { mode: 0o644, flags: 'wx' }));
        renameSync(tmp, out);
      } catch (e) {
        rmSync(tmp, { force: true });
        const code = (e as NodeJS.ErrnoException)?.code;
        if (e instanceof TscError || !code) throw e;
        throw new TscError(code === 'ENOSPC' ? 'DISK_FULL' : 'IMAGE_ARCHIVE', `cannot write ${opts.output}: ${(e as Error).message}`, { cause: e });
      }
    });

  image
    .command('tag')
    .description('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE')
    .argument('<source>', 'image reference or id')
    .argument('<target>', 'new reference, e.g. registry.example.com/team/app:v1')
    .action((source: string, target: string) => {
      requireRoot('tag');
      store().tag(source, target);
    });

  image
    .command('pull')
    .description('Download an image from a registry')
    .argument('<image>', 'image reference, e.g. busybox or registry.example.com/app:v1')
    .option('--platform <platform>', 'Pull the image for this platform (os/arch[/variant])')
    .option('-q, --quiet', 'Suppress verbose output')
    .action(async (ref: string, opts: { platform?: string; quiet?: boolean }) => {
      requireRoot('pull');
      const s = store();
      const rec = opts.quiet ? await s.pull(ref, { platform: opts.platform }) : (await pullImagesWithProgress(s, [ref], { platform: opts.platform }))[0];
      if (opts.quiet) console.log(rec.repoTags[0] ?? rec.id);
      else {
        console.log(`Digest: ${rec.repoDigests[0]?.split('@')[1] ?? rec.manifestDigest ?? ''}`);
        console.log(`Status: ${familiarName(rec.repoTags[0] ?? ref)} is in the local store as ${rec.id.slice(7, 19)}`);
      }
    });

  registerImagePush(image);
}
