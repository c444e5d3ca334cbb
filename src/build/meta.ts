/**
 * The instructions that change only the image config (no layer): ENV, LABEL, USER, EXPOSE,
 * VOLUME, CMD, ENTRYPOINT, SHELL, HEALTHCHECK, STOPSIGNAL, MAINTAINER. Each substitutes its
 * words as Docker does (CMD, ENTRYPOINT and HEALTHCHECK's command are left to the shell),
 * changes the stage's config and returns the text its history entry and cache key carry.
 */
import type { Instr } from './dockerfile.js';
import { parseDuration, setEnv, type StageImage } from './state.js';
import { parseKeyValues, processWord, processWords, type Vars } from './words.js';

export class MetaError extends Error {}

export interface MetaContext {
  vars: Vars;
  esc: string;
  /** set once CMD is written in this stage (ENTRYPOINT then keeps it) */
  cmdSet: boolean;
}

const shellOf = (s: StageImage): string[] => s.config.Shell ?? ['/bin/sh', '-c'];

/** A command in exec form, or the shell form wrapped in the stage's SHELL. */
function commandOf(ins: Instr, s: StageImage): string[] {
  if (ins.json) return ins.json;
  return [...shellOf(s), ins.args.trim()];
}

function ports(words: string[]): string[] {
  const out: string[] = [];
  for (const w of words) {
    const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(w);
    if (!m) throw new MetaError(`invalid port "${w}": use PORT, PORT/PROTO or FROM-TO/PROTO`);
    const proto = (m[3] ?? 'tcp').toLowerCase();
    const a = Number(m[1]);
    const b = m[2] ? Number(m[2]) : a;
    if (b < a || b > 65535) throw new MetaError(`invalid port range "${w}"`);
    for (let p = a; p <= b; p++) out.push(`${p}/${proto}`);
  }
  return out;
}

function healthcheck(ins: Instr, s: StageImage, c: MetaContext): string {
  const words = ins.args.trim();
  if (/^none$/i.test(words)) {
    s.config.Healthcheck = { Test: ['NONE'] };
    return 'HEALTHCHECK NONE';
  }
  const m = /^CMD(\s+|$)/i.exec(words);
  if (!m) throw new MetaError('HEALTHCHECK takes CMD <command> or NONE');
  const rest = words.slice(m[0].length);
  const json = rest.trim().startsWith('[') ? (tryJson(rest) ?? undefined) : undefined;
  const hc: NonNullable<StageImage['config']['Healthcheck']> = { Test: json ? ['CMD', ...json] : ['CMD-SHELL', rest.trim()] };
  const dur = (flag: string, key: 'Interval' | 'Timeout' | 'StartPeriod' | 'StartInterval') => {
    const v = ins.flags.get(flag);
    if (v === undefined) return;
    const ns = v === null ? undefined : parseDuration(processWord(v, c.vars, c.esc));
    if (ns === undefined) throw new MetaError(`--${flag}: "${v}" is not a duration (e.g. 30s, 1m30s)`);
    hc[key] = ns;
  };
  dur('interval', 'Interval');
  dur('timeout', 'Timeout');
  dur('start-period', 'StartPeriod');
  dur('start-interval', 'StartInterval');
  const r = ins.flags.get('retries');
  if (r !== undefined) {
    if (r === null || !/^\d+$/.test(r)) throw new MetaError(`--retries: "${r}" is not a number`);
    hc.Retries = Number(r);
  }
  for (const f of ins.flags.keys()) {
    if (!['interval', 'timeout', 'start-period', 'start-interval', 'retries'].includes(f)) throw new MetaError(`HEALTHCHECK has no flag --${f}`);
  }
  s.config.Healthcheck = hc;
  return `HEALTHCHECK &{${JSON.stringify(hc.Test)}}`;
}

function tryJson(t: string): string[] | undefined {
  try {
    const v: unknown = JSON.parse(t.trim());
    return Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined;
  } catch {
    return undefined;
  }
}

/** Applies one metadata instruction to `s`; returns the text after substitution. */
export function applyMeta(ins: Instr, s: StageImage, c: MetaContext): string {
  const cfg = s.config;
  switch (ins.keyword) {
    case 'ENV': {
      const pairs = parseKeyValues(ins.args, c.vars, { esc: c.esc, legacy: true });
      if (!pairs.length) throw new MetaError('ENV needs at least one KEY=value');
      let env = [...(cfg.Env ?? [])];
      for (const [k, v] of pairs) env = setEnv(env, k, v ?? '');
      cfg.Env = env;
      return `ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`;
    }
    case 'LABEL': {
      const pairs = parseKeyValues(ins.args, c.vars, { esc: c.esc, legacy: true });
      if (!pairs.length) throw new MetaError('LABEL needs at least one key=value');
      cfg.Labels = { ...(cfg.Labels ?? {}) };
      for (const [k, v] of pairs) cfg.Labels[k] = v ?? '';
      return `LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`;
    }
    case 'USER': {
      const u = processWord(ins.args.trim(), c.vars, c.esc);
      if (!u) throw new MetaError('USER needs a user name or id');
      cfg.User = u;
      return `USER ${u}`;
    }
    case 'EXPOSE': {
      const list = ports(processWords(ins.args, c.vars, c.esc));
      cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}) };
      for (const p of list) cfg.ExposedPorts[p] = {};
      return `EXPOSE ${list.join(' ')}`;
    }
    case 'VOLUME': {
      const list = (ins.json ?? processWords(ins.args, c.vars, c.esc)).map((v) => processWord(v, c.vars, c.esc));
      if (!list.length || list.some((v) => !v)) throw new MetaError('VOLUME needs at least one path');
      cfg.Volumes = { ...(cfg.Volumes ?? {}) };
      for (const v of list) cfg.Volumes[v] = {};
      return `VOLUME [${list.join(' ')}]`;
    }
    case 'CMD':
      cfg.Cmd = commandOf(ins, s);
      c.cmdSet = true;
      return `CMD ${JSON.stringify(cfg.Cmd)}`;
    case 'ENTRYPOINT':
      cfg.Entrypoint = commandOf(ins, s);
      // Docker: an ENTRYPOINT resets the CMD inherited from the base image
      if (!c.cmdSet) cfg.Cmd = null;
      return `ENTRYPOINT ${JSON.stringify(cfg.Entrypoint)}`;
    case 'SHELL':
      if (!ins.json || !ins.json.length) throw new MetaError('SHELL must be written in JSON form, e.g. SHELL ["/bin/bash", "-c"]');
      cfg.Shell = ins.json;
      return `SHELL ${JSON.stringify(ins.json)}`;
    case 'HEALTHCHECK':
      return healthcheck(ins, s, c);
    case 'STOPSIGNAL': {
      const sig = processWord(ins.args.trim(), c.vars, c.esc);
      if (!/^(SIG[A-Z0-9+-]+|[A-Z0-9+-]+|\d+)$/i.test(sig)) throw new MetaError(`invalid signal "${sig}"`);
      cfg.StopSignal = sig;
      return `STOPSIGNAL ${sig}`;
    }
    case 'MAINTAINER':
      return `MAINTAINER ${ins.args.trim()}`;
    default:
      throw new MetaError(`unknown instruction ${ins.keyword}`);
  }
}

export const META_KEYWORDS = new Set(['ENV', 'LABEL', 'USER', 'EXPOSE', 'VOLUME', 'CMD', 'ENTRYPOINT', 'SHELL', 'HEALTHCHECK', 'STOPSIGNAL', 'MAINTAINER']);
