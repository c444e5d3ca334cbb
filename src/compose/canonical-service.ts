/**
 * Canonical forms of the remaining service keys: command and environment, capabilities, string
 * lists, depends_on, healthcheck, lifecycle (signals, restart, booleans), build, extends,
 * secrets and configs.
 */
import { CAPABILITY_NAMES } from '../common/capabilities.js';
import {
  bool,
  commandOf,
  duration,
  int,
  listOrDict,
  rawKept,
  replicas,
  resolveHostPath,
  specError,
  strings,
  type Obj,
  type Transformer,
} from './canonical-values.js';
import { nearest } from './position.js';
import { canonicalBuild } from './service-build.js';

/** Linux capability names without the CAP_ prefix (the one list, in common). */
export const CAPABILITIES = CAPABILITY_NAMES;

/** A capability as Compose accepts it: NAME or CAP_NAME, any case, or ALL. */
export function isCapability(c: string): boolean {
  const n = c.toUpperCase().replace(/^CAP_/, '');
  return n === 'ALL' || CAPABILITIES.includes(n);
}

const SIGNALS = new Set([
  'HUP',
  'INT',
  'QUIT',
  'ILL',
  'TRAP',
  'ABRT',
  'IOT',
  'BUS',
  'FPE',
  'KILL',
  'USR1',
  'SEGV',
  'USR2',
  'PIPE',
  'ALRM',
  'TERM',
  'STKFLT',
  'CHLD',
  'CONT',
  'STOP',
  'TSTP',
  'TTIN',
  'TTOU',
  'URG',
  'XCPU',
  'XFSZ',
  'VTALRM',
  'PROF',
  'WINCH',
  'IO',
  'POLL',
  'PWR',
  'SYS',
]);

/** A Linux signal: a name with or without SIG, RTMIN+n / RTMAX-n, or a number 1-64. */
function isSignal(s: string): boolean {
  if (/^\d+$/.test(s)) return Number(s) >= 1 && Number(s) <= 64;
  const n = s.toUpperCase().replace(/^SIG/, '');
  return SIGNALS.has(n) || /^RTMIN(\+\d+)?$/.test(n) || /^RTMAX(-\d+)?$/.test(n);
}

const RESTART_RE = /^(no|always|unless-stopped|on-failure(:\d+)?)$/;

const capabilities: Transformer = (v, ctx, p) => {
  const list = strings(v);
  list.forEach((c, i) => {
    if (!rawKept(c, ctx) && !isCapability(c)) {
      const near = nearest(c.toUpperCase().replace(/^CAP_/, ''), CAPABILITIES);
      throw specError(
        ctx,
        [...p, i],
        `unknown capability ${JSON.stringify(c)}`,
        near ? `did you mean ${JSON.stringify(near)}?` : 'capability names are like NET_ADMIN or CAP_NET_ADMIN, or ALL',
      );
    }
  });
  return list;
};

const healthcheck: Transformer = (v, ctx, p) => {
  const h = v as Obj;
  const out: Obj = {};
  for (const [k, val] of Object.entries(h)) {
    const hp = [...p, k];
    if (k === 'test') {
      if (typeof val === 'string') out.test = val === 'NONE' ? ['NONE'] : ['CMD-SHELL', val];
      else {
        const arr = (val as unknown[]).map(String);
        if (arr.length === 0 || !['CMD', 'CMD-SHELL', 'NONE'].includes(arr[0])) {
          throw specError(
            ctx,
            hp,
            `a healthcheck test list must start with "CMD", "CMD-SHELL" or "NONE", got ${JSON.stringify(arr[0] ?? '')}`,
            'e.g. test: ["CMD", "wget", "-qO-", "http://localhost/"] or test: "wget -qO- http://localhost/"',
          );
        }
        out.test = arr;
      }
    } else if (k === 'interval' || k === 'timeout' || k === 'start_period' || k === 'start_interval') out[k] = duration(val, ctx, hp);
    else if (k === 'retries') out.retries = int(val, ctx, hp);
    else if (k === 'disable') out.disable = bool(val, ctx, hp);
    else out[k] = val;
  }
  return out;
};

/** short `- name` → `{source: name}`; a secret is mounted at /run/secrets/<source> unless told (compose-go) */
function references(defaultTarget?: (source: string) => string): Transformer {
  return (v) =>
    (v as unknown[]).map((e) => {
      const o: Obj = typeof e === 'string' ? { source: e } : { ...(e as Obj) };
      if (defaultTarget && o.target === undefined) o.target = defaultTarget(String(o.source));
      return o;
    });
}

export const SERVICE_TRANSFORMERS: Record<string, Transformer> = {
  command: commandOf,
  entrypoint: commandOf,
  environment: listOrDict,
  labels: listOrDict,
  annotations: listOrDict,
  sysctls: (v, ctx, p) => {
    const d = listOrDict(v, ctx, p);
    for (const [k, val] of Object.entries(d)) if (val === null) throw specError(ctx, [...p, k], `sysctl ${k} needs a value`);
    return d;
  },
  env_file: (v, ctx, p) => {
    const entries: Obj[] = Array.isArray(v) ? v.map((e) => (typeof e === 'string' ? { path: e } : (e as Obj))) : [{ path: String(v) }];
    return entries.map((e, i) => {
      const o: Obj = { path: resolveHostPath(String(e.path), ctx), required: e.required === undefined ? true : bool(e.required, ctx, [...p, i, 'required']) };
      if (e.format !== undefined) o.format = e.format;
      return o;
    });
  },
  cap_add: capabilities,
  cap_drop: capabilities,
  dns_search: strings,
  dns_opt: strings,
  profiles: strings,
  security_opt: strings,
  group_add: strings,
  depends_on: (v, ctx, p) => {
    const out: Obj = {};
    if (Array.isArray(v)) {
      for (const n of v) out[String(n)] = { condition: 'service_started', restart: false, required: true };
    } else {
      for (const [n, cfg] of Object.entries(v as Obj)) {
        const c = (cfg ?? {}) as Obj;
        out[n] = {
          condition: c.condition ?? 'service_started',
          restart: c.restart === undefined ? false : bool(c.restart, ctx, [...p, n, 'restart']),
          required: c.required === undefined ? true : c.required,
        };
      }
    }
    return out;
  },
  healthcheck,
  scale: replicas,
  init: bool,
  read_only: bool,
  privileged: bool,
  tty: bool,
  stdin_open: bool,
  oom_kill_disable: bool,
  stop_grace_period: duration,
  stop_signal: (v, ctx, p) => {
    const sig = String(v);
    if (!isSignal(sig)) throw specError(ctx, p, `unknown signal ${JSON.stringify(sig)}`, 'use a signal name such as SIGTERM, SIGINT, SIGQUIT, or its number');
    return sig;
  },
  restart: (v, ctx, p) => {
    const r = String(v);
    if (!RESTART_RE.test(r))
      throw specError(ctx, p, `unknown restart policy ${JSON.stringify(r)}`, 'use "no", "always", "on-failure", "on-failure:N" or "unless-stopped"');
    return r;
  },
  build: canonicalBuild,
  extends: (v) => (typeof v === 'string' ? { service: v } : v),
  secrets: references((source) => `/run/secrets/${source}`),
  configs: references(),
  pid: (v) => (v === null ? undefined : v),
};
