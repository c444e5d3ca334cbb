/**
 * The build: reads the Dockerfile and the context, builds the target stage and the stages it
 * needs (FROM an earlier stage, COPY --from), step by step through the cache, and records the
 * final image in the store. Every kernel object and scratch file of the build is removed when
 * it ends, however it ends; a build killed mid-way is cleaned up by the next one.
 */
import { statSync } from 'node:fs';
import path from 'node:path';

import { TscError } from '../common/errors.js';
import { hostPlatform, parsePlatform, parseReference, type ImageStore } from '../images/index.js';
import type { BuildEvent, BuildOptions, BuildRequest, BuildResult } from './index.js';
import { StepCache, stepKey } from './cache.js';
import { ignoreFileFor, ignorePatterns, openContext, readIfExists } from './context.js';
import { parseDockerfile, type Dockerfile, type Instr } from './dockerfile.js';
import { addHistory } from './layers.js';
import { applyMeta, META_KEYWORDS, type MetaContext } from './meta.js';
import { buildNetwork } from './network.js';
import { createScratch, releaseScratch, sweepDeadBuilds } from './scratch.js';
import { buildEpoch, cloneStage, envMap, isoTime, type StageImage } from './state.js';
import { copyStep, runStep, workdirStep, StepError, type Step, type StepContext } from './steps.js';
import { parseKeyValues, processWord } from './words.js';

/** Build args Docker passes to RUN without an ARG line, and keeps out of the cache and history. */
const PROXY_ARGS = ['HTTP_PROXY', 'HTTPS_PROXY', 'FTP_PROXY', 'NO_PROXY', 'ALL_PROXY'].flatMap((a) => [a, a.toLowerCase()]);

function lineError(file: string, ins: Instr, e: unknown): TscError {
  if (e instanceof TscError && e.code === 'BUILD_FAILED' && /^[^:]+:\d+: /.test(e.message)) return e;
  const msg = e instanceof Error ? e.message : String(e);
  // a full disk while a step writes (COPY's files, a layer) is DISK_FULL, as everywhere else
  const errno = (e as NodeJS.ErrnoException | undefined)?.code;
  const full = (e instanceof TscError && e.code === 'DISK_FULL') || errno === 'ENOSPC' || errno === 'EDQUOT';
  const hint =
    e instanceof TscError ? e.hint : full ? 'free space on the filesystem holding the state root (tscompose image prune removes unused images)' : undefined;
  return new TscError(full ? 'DISK_FULL' : 'BUILD_FAILED', `${file}:${ins.line}: ${ins.text}: ${msg}`, { hint, cause: e });
}

function readDockerfile(req: BuildRequest): { df: Dockerfile; file?: string } {
  let st;
  try {
    st = statSync(req.context);
  } catch {
    st = undefined;
  }
  if (!st?.isDirectory()) throw new TscError('BUILD_FAILED', `build context ${req.context} is not a directory${req.label ? ` (${req.label})` : ''}`);
  if (req.dockerfileInline !== undefined) return { df: parseDockerfile(req.dockerfileInline, 'Dockerfile') };
  const file = path.resolve(req.context, req.dockerfile ?? 'Dockerfile');
  const text = readIfExists(file);
  if (text === undefined) {
    throw new TscError('BUILD_FAILED', `cannot read the Dockerfile ${file}${req.label ? ` of ${req.label}` : ''}`, {
      hint: 'set build.dockerfile (relative to the context) or add a Dockerfile to the context',
    });
  }
  const rel = path.relative(req.context, file);
  return { df: parseDockerfile(text, rel.startsWith('..') ? file : rel), file };
}

/** The stages the target needs (FROM an earlier stage, COPY --from), for the step count. */
function neededStages(df: Dockerfile, target: number, globals: Map<string, string>): Set<number> {
  const need = new Set<number>();
  const find = (ref: string): number => {
    const r = ref.toLowerCase();
    return /^\d+$/.test(r) ? Number(r) : df.stages.findIndex((s) => s.name === r);
  };
  const visit = (i: number) => {
    if (i < 0 || need.has(i)) return;
    need.add(i);
    const st = df.stages[i]!;
    let from = st.from.args.trim().split(/\s+/)[0]!;
    try {
      from = processWord(from, globals, df.escape);
    } catch {
      // reported when the stage is built
    }
    const j = find(from);
    if (j >= 0 && j < i) visit(j);
    for (const ins of st.instrs) {
      const f = ins.flags.get('from');
      if (f && ins.keyword === 'COPY') {
        const k = find(f);
        if (k >= 0 && k < i) visit(k);
      }
    }
  };
  visit(target);
  return need;
}

export async function build(req: BuildRequest, opts: BuildOptions): Promise<BuildResult> {
  const t0 = Date.now();
  const store = opts.images;
  const emit = (e: BuildEvent) => opts.onEvent?.(e);
  const { df, file: dfPath } = readDockerfile(req);
  const esc = df.escape;
  const buildArgs = new Map<string, string>();
  for (const [k, v] of Object.entries(req.args)) {
    const val = v ?? process.env[k];
    if (val !== undefined) buildArgs.set(k, val);
  }
  const epoch = buildEpoch(Object.fromEntries(buildArgs));
  const ignoreFile = ignoreFileFor(req.context, dfPath);
  const context = openContext(req.context, ignorePatterns(ignoreFile ? (readIfExists(ignoreFile) ?? '') : ''));
  const host = hostPlatform();
  const platform = `${host.os}/${host.architecture}${host.variant ? `/${host.variant}` : ''}`;
  const globals = new Map<string, string>(
    Object.entries({
      BUILDPLATFORM: platform,
      TARGETPLATFORM: platform,
      BUILDOS: host.os,
      TARGETOS: host.os,
      BUILDARCH: host.architecture,
      TARGETARCH: host.architecture,
      BUILDVARIANT: host.variant ?? '',
      TARGETVARIANT: host.variant ?? '',
    }),
  );
  for (const ins of df.globalArgs) {
    try {
      for (const [k, v] of parseKeyValues(ins.args, globals, { esc, allowBare: true })) {
        const val = buildArgs.get(k) ?? v;
        if (val !== undefined) globals.set(k, val);
      }
    } catch (e) {
      throw lineError(df.file, ins, e);
    }
  }
  let target = df.stages.length - 1;
  if (req.target) {
    target = df.stages.findIndex((s) => s.name === req.target!.toLowerCase());
    if (target < 0) {
      const names = df.stages.map((s) => s.name).filter(Boolean);
      throw new TscError('BUILD_FAILED', `${df.file}: no stage named "${req.target}" (build target)`, {
        hint: names.length ? `stages: ${names.join(', ')}` : 'the Dockerfile names no stage (FROM image AS name)',
      });
    }
  }
  const need = neededStages(df, target, globals);
  const total = [...need].reduce((n, i) => n + 1 + df.stages[i]!.instrs.length, 0);

  await sweepDeadBuilds(opts.root);
  const scratch = createScratch(opts.root);
  const network = buildNetwork(opts.root, scratch.project, req.network);
  const cache = new StepCache(opts.root, store);
  let step = 0;
  let ran = 0;
  let cached = 0;
  let seq = 0;
  const images = new Map<string, Promise<{ state: StageImage; key: string }>>();
  const stages = new Map<number, Promise<{ state: StageImage; key: string }>>();
  let current = -1;

  const imageState = (ref: string) => {
    let p = images.get(ref);
    if (!p) {
      p = fromImage(store, ref, req.pull, opts.signal, epoch);
      images.set(ref, p);
    }
    return p;
  };
  const stageIndex = (ref: string, before: number): number => {
    const r = ref.toLowerCase();
    const i = /^\d+$/.test(r) ? Number(r) : df.stages.findIndex((s) => s.name === r);
    if (i >= before) throw new StepError(`stage "${ref}" comes later in the Dockerfile (or is this one): a stage can only use earlier ones`);
    return i;
  };

  const ctx: StepContext = {
    store,
    scratchDir: scratch.dir,
    epoch,
    seq: () => ++seq,
    project: scratch.project,
    network,
    shmSize: req.shmSize,
    signal: opts.signal,
    context,
    additionalContexts: req.additionalContexts,
    onLine: (line) => emit({ kind: 'step-output', step, line }),
    stage: async (ref) => {
      const i = stageIndex(ref, current);
      return i < 0 ? undefined : (await buildStage(i)).state;
    },
    image: async (ref) => (await imageState(ref)).state,
  };

  const buildStage = (i: number): Promise<{ state: StageImage; key: string }> => {
    let p = stages.get(i);
    if (!p) {
      p = runStage(i);
      stages.set(i, p);
    }
    return p;
  };

  const runStage = async (i: number): Promise<{ state: StageImage; key: string }> => {
    const stage = df.stages[i]!;
    const stageLabel = stage.name ?? `stage-${i}`;
    const from = stage.from;
    let mine = 0; // this stage's current step (a stage built on demand numbers its own)
    const start = (ins: Instr) => {
      mine = ++step;
      emit({ kind: 'step-start', step, total, stage: stageLabel, text: ins.text, line: ins.line });
    };
    let state: StageImage;
    let key: string;
    start(from);
    const t = Date.now();
    try {
      for (const f of from.flags.keys()) if (f !== 'platform') throw new StepError(`FROM --${f} is not supported`);
      const pf = from.flags.get('platform');
      if (pf) {
        const want = parsePlatform(processWord(pf, globals, esc));
        if (want.os !== host.os || want.architecture !== host.architecture) {
          throw new StepError(`--platform=${pf}: tscompose builds for this machine's platform (${platform}) only`);
        }
      }
      const image = processWord(from.args.trim().split(/\s+/)[0]!, globals, esc);
      const earlier = df.stages.findIndex((s) => s.name === image.toLowerCase());
      let base: { state: StageImage; key: string };
      if (earlier >= 0) {
        if (earlier >= i) throw new StepError(`stage "${image}" is not an earlier stage`);
        base = await buildStage(earlier);
      } else if (image === 'scratch') {
        base = {
          state: { diffIds: [], layerBlobs: [], config: {}, history: [], os: host.os, architecture: host.architecture, variant: host.variant },
          key: stepKey(String(epoch), ['scratch']),
        };
      } else if (req.additionalContexts[image] !== undefined) {
        throw new StepError(`FROM a named context ("${image}") is not supported: use it with COPY --from=${image}`);
      } else base = await imageState(image);
      state = cloneStage(base.state);
      key = base.key;
    } catch (e) {
      throw lineError(df.file, from, e);
    }
    emit({ kind: 'step-done', step: mine, cached: false, ms: Date.now() - t });

    const stageArgs = new Map<string, string>();
    const declared = new Set<string>();
    const meta: MetaContext = { vars: new Map(), esc, cmdSet: false };
    for (const ins of stage.instrs) {
      if (opts.signal?.aborted) throw new TscError('BUILD_FAILED', `${df.file}:${ins.line}: the build was interrupted`);
      start(ins);
      const t1 = Date.now();
      current = i;
      const vars = new Map([...stageArgs, ...envMap(state.config.Env)]);
      meta.vars = vars;
      let hit = false;
      try {
        let st: Step;
        const kw = ins.keyword;
        if (kw === 'ARG') {
          const pairs: Array<[string, string]> = [];
          for (const [k, v] of parseKeyValues(ins.args, vars, { esc, allowBare: true })) {
            const val = buildArgs.get(k) ?? v ?? globals.get(k);
            declared.add(k);
            if (val !== undefined) stageArgs.set(k, val);
            pairs.push([k, val ?? '']);
          }
          st = { key: ['ARG', pairs], exec: async (s) => addHistory(ctx, s, `/bin/sh -c #(nop) ARG ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`) };
        } else if (kw === 'RUN') {
          const hidden = new Map(PROXY_ARGS.filter((a) => !declared.has(a) && buildArgs.has(a)).map((a) => [a, buildArgs.get(a)!]));
          st = runStep(ctx, ins, stageArgs, hidden);
        } else if (kw === 'COPY' || kw === 'ADD') st = await copyStep(ctx, ins, vars, state);
        else if (kw === 'WORKDIR') st = workdirStep(ctx, ins, vars, state);
        else if (kw === 'ONBUILD') throw new StepError("ONBUILD is not supported by tscompose's builder (BuildKit deprecates it for new images too)");
        else if (META_KEYWORDS.has(kw)) {
          const text = applyMeta(ins, cloneStage(state), meta);
          st = {
            key: ['META', text],
            exec: async (s) => {
              applyMeta(ins, s, { ...meta });
              addHistory(ctx, s, `/bin/sh -c #(nop) ${text}`);
            },
          };
        } else throw new StepError(`unknown instruction ${kw}`);
        const k = stepKey(key, st.key);
        const got = req.noCache ? undefined : cache.get(k);
        if (got) {
          state = got;
          hit = true;
          cached++;
        } else {
          const next = cloneStage(state);
          await st.exec(next);
          cache.put(k, next);
          state = next;
          ran++;
        }
        key = k;
      } catch (e) {
        throw lineError(df.file, ins, e);
      }
      emit({ kind: 'step-done', step: mine, cached: hit, ms: Date.now() - t1 });
    }
    return { state, key };
  };

  try {
    // the stages the target needs, in file order, so progress reads top to bottom
    for (const i of [...need].sort((a, b) => a - b)) await buildStage(i);
    const final = cloneStage((await buildStage(target)).state);
    if (Object.keys(req.labels).length) final.config.Labels = { ...(final.config.Labels ?? {}), ...req.labels };
    const doc = {
      architecture: final.architecture,
      os: final.os,
      ...(final.variant ? { variant: final.variant } : {}),
      created: isoTime(epoch),
      config: final.config,
      rootfs: { type: 'layers', diff_ids: final.diffIds },
      history: final.history,
    };
    const tags = req.tags.map((t) => {
      const r = parseReference(t);
      return `${r.name}:${r.tag ?? 'latest'}`;
    });
    const image = await store.recordImage(doc, final.layerBlobs, tags, req.label ?? tags[0] ?? 'the built image');
    emit({ kind: 'done', imageId: image.id, ms: Date.now() - t0 });
    return { image, ran, cached };
  } finally {
    try {
      network.cleanup();
    } finally {
      await releaseScratch(opts.root, scratch, false);
    }
  }
}

/** A FROM image's state: from the store, pulled when missing (or always with `pull`). */
async function fromImage(
  store: ImageStore,
  ref: string,
  pull: boolean,
  signal: AbortSignal | undefined,
  epoch: number,
): Promise<{ state: StageImage; key: string }> {
  let rec = pull ? undefined : store.get(ref);
  if (!rec) rec = await store.pull(ref, { signal });
  const doc = store.configDocument(rec.id);
  const history = Array.isArray(doc.history) ? (doc.history as StageImage['history']) : [];
  return {
    state: {
      diffIds: [...rec.diffIds],
      layerBlobs: store.layerBlobs(rec.id),
      config: JSON.parse(JSON.stringify(rec.config)) as StageImage['config'],
      history,
      os: rec.os,
      architecture: rec.architecture,
      variant: typeof doc.variant === 'string' ? doc.variant : undefined,
    },
    key: stepKey(String(epoch), ['FROM', rec.id]),
  };
}
