/**
 * The steps that change the filesystem: RUN (a container, run.ts), COPY and ADD (copy.ts),
 * WORKDIR (creates the directory when the image lacks it). Each returns its cache-key parts
 * first (`key`), and does its work only when the cache misses (`exec`), so an unchanged step is
 * never run.
 */
import { chmodSync, copyFileSync, lchownSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { TscError } from '../common/errors.js';
import { faultWrite } from '../sys/fault.js';
import { copyImageDir, imageEntry, type ImageStore } from '../images/index.js';
import { contextTree, openContext, resolveSources, hasGlob, type ContextDir } from './context.js';
import { applyCopy, hashCopy, planCopy, type CopySource } from './copy.js';
import type { Instr } from './dockerfile.js';
import { addHistory, commitUpper, dropMountPoints, lowerDirsOf, type LayerContext } from './layers.js';
import type { BuildNetwork } from './network.js';
import { runContainer } from './run.js';
import { unpackIfArchive } from './archive.js';
import { DEFAULT_PATH, envMap, type StageImage } from './state.js';
import { processWord, processWords, type Vars } from './words.js';

export class StepError extends Error {}

export interface StepContext extends LayerContext {
  store: ImageStore;
  project: string;
  network: BuildNetwork;
  shmSize?: number;
  signal?: AbortSignal;
  context: ContextDir;
  additionalContexts: Record<string, string>;
  onLine(line: string): void;
  /** the final state of an earlier stage by name or index (building it when needed) */
  stage(ref: string): Promise<StageImage | undefined>;
  /** an image from the store (pulled when missing) */
  image(ref: string): Promise<StageImage>;
}

export interface Step {
  key: unknown;
  exec(s: StageImage): Promise<void>;
}

/**
 * RUN: the command, the env it runs with (image env + declared build args `args`, which the
 * cache key and history carry, + `hidden`: the predefined proxy args, which they never carry).
 */
export function runStep(c: StepContext, ins: Instr, args: Map<string, string>, hidden: Map<string, string>): Step {
  let argv: string[];
  let shown: string;
  const shell = (s: StageImage) => s.config.Shell ?? ['/bin/sh', '-c'];
  for (const f of ins.flags.keys()) throw new StepError(`RUN --${f} is not supported by tscompose's builder`);
  const script = (() => {
    if (ins.json) return undefined;
    if (!ins.heredocs.length) return ins.args.trim();
    // `RUN <<EOF` alone runs the document as the script; otherwise the shell reads the heredocs
    const first = ins.raw.split('\n')[0]!.trim();
    if (/^<<-?\s*["']?[A-Za-z0-9_]+["']?$/.test(first) && ins.heredocs.length === 1) return ins.heredocs[0]!.content;
    return ins.raw;
  })();
  const visible = [...args].sort(([a], [b]) => a.localeCompare(b));
  return {
    key: ['RUN', ins.json ?? script, visible],
    async exec(s) {
      argv = ins.json ?? [...shell(s), script!];
      shown = ins.json ? JSON.stringify(ins.json) : `${shell(s).join(' ')} ${script}`;
      const env = envMap(s.config.Env);
      for (const [k, v] of [...args, ...hidden]) if (!env.has(k)) env.set(k, v);
      if (!env.has('PATH')) env.set('PATH', DEFAULT_PATH);
      const lower = lowerDirsOf(c, s);
      const n = c.seq();
      const tail: string[] = [];
      const out = await runContainer({
        project: c.project,
        id: `${c.project}-${n}`,
        scratch: c.scratchDir,
        lowerDirs: lower,
        argv,
        env: [...env].map(([k, v]) => `${k}=${v}`),
        cwd: s.config.WorkingDir || '/',
        user: s.config.User ?? '',
        network: c.network,
        shmSize: c.shmSize,
        onLine: (l) => {
          tail.push(l);
          if (tail.length > 5) tail.shift();
          c.onLine(l);
        },
        signal: c.signal,
      });
      try {
        if (out.exitCode !== 0) {
          throw new TscError('BUILD_FAILED', out.signal ? `killed by ${out.signal}` : `exit code ${out.exitCode}`, {
            hint: tail.length ? `its last output:\n${tail.join('\n')}` : undefined,
          });
        }
        dropMountPoints(out.upper, lower);
        const prefix = visible.length ? `|${visible.length} ${visible.map(([k, v]) => `${k}=${v}`).join(' ')} ` : '';
        await commitUpper(c, s, out.upper, `${prefix}${shown}`);
      } finally {
        rmSync(out.upper, { recursive: true, force: true });
      }
    },
  };
}

/** `--chown=user:group` with names looked up in the stage's /etc/passwd and /etc/group. */
function chownOf(spec: string, lower: string[]): { uid: number; gid: number } {
  const [u, g] = spec.split(':');
  const lookup = (file: string, name: string, what: string): number => {
    if (/^\d+$/.test(name)) return Number(name);
    const e = imageEntry(lower, file);
    const line = e?.st.isFile()
      ? readFileSync(e.path, 'utf8')
          .split('\n')
          .find((l) => l.split(':')[0] === name)
      : undefined;
    if (!line) throw new StepError(`--chown: no ${what} "${name}" in the image's ${file}`);
    return Number(line.split(':')[2]);
  };
  const uid = lookup('/etc/passwd', u!, 'user');
  let gid = uid;
  if (g !== undefined) gid = lookup('/etc/group', g, 'group');
  else if (!/^\d+$/.test(u!)) {
    const e = imageEntry(lower, '/etc/passwd');
    const line = e
      ? readFileSync(e.path, 'utf8')
          .split('\n')
          .find((l) => l.split(':')[0] === u)
      : undefined;
    gid = Number(line?.split(':')[3] ?? uid);
  }
  return { uid, gid };
}

/** Copies `srcs` from a stage or image into a scratch directory, owners kept, for planning. */
function materialize(c: LayerContext, lower: string[], srcs: string[]): ContextDir {
  const dir = path.join(c.scratchDir, `from-${c.seq()}`);
  mkdirSync(dir, { recursive: true });
  for (const src of srcs) {
    if (hasGlob(src)) throw new StepError(`COPY --from does not take wildcards in tscompose's builder ("${src}")`);
    const rel = path.posix.normalize('/' + src).slice(1);
    const e = imageEntry(lower, rel);
    if (!e) continue;
    const to = path.join(dir, rel);
    mkdirSync(path.dirname(to), { recursive: true });
    if (e.st.isDirectory()) {
      mkdirSync(to, { recursive: true });
      copyImageDir(lower, rel, to);
      continue;
    }
    if (e.st.isSymbolicLink()) symlinkSync(readlinkSync(e.path), to);
    else if (e.st.isFile()) copyFileSync(e.path, to);
    else continue;
    lchownSync(to, e.st.uid, e.st.gid);
    if (!e.st.isSymbolicLink()) chmodSync(to, e.st.mode & 0o7777);
  }
  return openContext(dir, []);
}

const URL_RE = /^(https?|git|ssh):\/\/|^git@/;

/** COPY and ADD (local files; ADD of an archive is unpacked, of a URL refused). */
export async function copyStep(c: StepContext, ins: Instr, vars: Vars, s: StageImage): Promise<Step> {
  const esc = '\\';
  for (const f of ins.flags.keys()) {
    if (!['from', 'chown', 'chmod', 'link'].includes(f)) throw new StepError(`${ins.keyword} --${f} is not supported by tscompose's builder`);
  }
  const words = ins.json ? ins.json.map((w) => processWord(w, vars, esc)) : processWords(ins.heredocs.length ? ins.raw.split('\n')[0]! : ins.args, vars, esc);
  if (words.length < 2 && !ins.heredocs.length) throw new StepError(`${ins.keyword} needs at least one source and a destination`);
  const dest = words[words.length - 1]!;
  let srcs = words.slice(0, -1);
  const lower = lowerDirsOf(c, s);
  const fromFlag = ins.flags.get('from');
  const from = fromFlag ? processWord(fromFlag, vars, esc) : undefined;
  let ctx = c.context;
  let keepOwner = false;
  let fromKey = 'context';
  if (ins.heredocs.length) {
    const dir = path.join(c.scratchDir, `heredoc-${c.seq()}`);
    mkdirSync(dir);
    srcs = srcs.map((w) => {
      const h = ins.heredocs.find((d) => w === `<<${d.name}` || w === `<<-${d.name}` || w.replace(/["']/g, '') === `<<${d.name}`);
      if (!h) return w;
      writeFileSync(path.join(dir, h.name), h.quoted ? h.content : processWord(h.content, vars, esc) + '', { mode: 0o644 });
      return h.name;
    });
    ctx = openContext(dir, []);
  } else if (from !== undefined) {
    if (ins.keyword === 'ADD') throw new StepError('ADD --from is not supported: use COPY --from');
    const named = c.additionalContexts[from];
    if (named) {
      ctx = openContext(named, []);
      fromKey = `context:${from}`;
    } else {
      const st = (await c.stage(from)) ?? (await c.image(from));
      ctx = materialize(c, lowerDirsOf(c, st), srcs);
      keepOwner = true;
      fromKey = `layers:${st.diffIds.join(',')}`;
    }
  }
  const sources: CopySource[] = [];
  for (const src of srcs) {
    if (URL_RE.test(src)) throw new StepError(`ADD of a URL (${src}) is not supported by tscompose's builder: download it in a RUN step or into the context`);
    const found = resolveSources(ctx, src);
    if (!found.length)
      throw new StepError(`"${src}": not found in the ${from ? `"${from}" source` : 'build context'}${from ? '' : ' or excluded by .dockerignore'}`);
    for (const top of found) sources.push({ top, tree: top.st.isDirectory() ? contextTree(ctx, top.rel) : [] });
  }
  const chownFlag = ins.flags.get('chown');
  const chmodFlag = ins.flags.get('chmod');
  if (chmodFlag !== undefined && !/^[0-7]{3,4}$/.test(chmodFlag ?? '')) throw new StepError(`--chmod: "${chmodFlag}" is not an octal mode`);
  const plan = {
    dest,
    workdir: s.config.WorkingDir || '/',
    sources,
    chown: chownFlag ? chownOf(processWord(chownFlag, vars, esc), lower) : undefined,
    chmod: chmodFlag ? parseInt(chmodFlag, 8) : undefined,
    keepOwner,
    lowerDirs: lower,
  };
  if (ins.keyword === 'ADD') {
    for (const src of sources) if (!src.top.st.isDirectory()) await unpackIfArchive(c, src);
  }
  const items = planCopy(plan);
  const hash = await hashCopy(items);
  return {
    key: [ins.keyword, fromKey, dest, plan.chown ?? null, plan.chmod ?? null, hash],
    async exec(st) {
      const upper = path.join(c.scratchDir, `copy-${c.seq()}`);
      mkdirSync(upper);
      try {
        faultWrite(upper);
        applyCopy(upper, items, lower);
        await commitUpper(
          c,
          st,
          upper,
          `/bin/sh -c #(nop) ${ins.keyword} ${sources.length === 1 && !sources[0]!.top.st.isDirectory() ? 'file' : 'dir'}:${hash} in ${dest} `,
        );
      } finally {
        rmSync(upper, { recursive: true, force: true });
      }
    },
  };
}

/** WORKDIR: the directory is made (0755, owned by the USER) when the image lacks it. */
export function workdirStep(c: StepContext, ins: Instr, vars: Vars, s: StageImage): Step {
  const p = processWord(ins.args.trim(), vars);
  if (!p) throw new StepError('WORKDIR needs a path');
  const abs = path.posix.resolve(s.config.WorkingDir || '/', p);
  return {
    key: ['WORKDIR', abs, s.config.User ?? ''],
    async exec(st) {
      st.config.WorkingDir = abs;
      const lower = lowerDirsOf(c, st);
      if (imageEntry(lower, abs)) return addHistory(c, st, `/bin/sh -c #(nop) WORKDIR ${abs}`);
      const upper = path.join(c.scratchDir, `workdir-${c.seq()}`);
      mkdirSync(upper);
      try {
        // owned by the current USER, as BuildKit makes it
        const owner = st.config.User ? chownOf(st.config.User, lower) : { uid: 0, gid: 0 };
        applyCopy(upper, [{ dest: abs, kind: 'dir', mode: 0o755, ...owner }], lower);
        await commitUpper(c, st, upper, `/bin/sh -c #(nop) WORKDIR ${abs}`);
      } finally {
        rmSync(upper, { recursive: true, force: true });
      }
    },
  };
}
