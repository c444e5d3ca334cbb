/**
 * A seeded generator of hostile Compose projects and command lines: random structures built
 * from Compose's keys with hostile names and values, the corpus with mutations, and the issue
 * 14 reproducers at random sizes. Bounded: every case is at most a few hundred kilobytes.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import * as R from './reproducers.js';
import { Rng } from './rng.js';

/** A file of a case: text, or a special file the runner makes. */
export type CaseFile = string | { fifo: true } | { symlink: string };

export interface ComposeCase {
  /** files by path relative to the case's directory (compose.yaml first) */
  files: Record<string, CaseFile>;
  /** the shell environment */
  env: Record<string, string>;
  /** the command line after `tscompose` */
  args: string[];
}

const HOSTILE_NAMES = [
  'constructor',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '__defineGetter__',
  'prototype',
  'isPrototypeOf',
  '',
  ' ',
  '-',
  '.',
  '..',
  '0',
  'null',
  'true',
  'default',
  'x-',
  'x-constructor',
  '🙂',
  'a'.repeat(300),
  'Web',
  'web',
  '${A}',
  '$$',
  'a b',
  'a:b',
  'a/b',
  'a=b',
];
const SERVICE_KEYS = [
  'image',
  'command',
  'entrypoint',
  'environment',
  'env_file',
  'ports',
  'expose',
  'volumes',
  'tmpfs',
  'networks',
  'network_mode',
  'depends_on',
  'healthcheck',
  'restart',
  'deploy',
  'mem_limit',
  'memswap_limit',
  'cpus',
  'pids_limit',
  'user',
  'working_dir',
  'hostname',
  'labels',
  'init',
  'stop_signal',
  'stop_grace_period',
  'read_only',
  'cap_add',
  'cap_drop',
  'privileged',
  'extra_hosts',
  'dns',
  'sysctls',
  'ulimits',
  'group_add',
  'container_name',
  'profiles',
  'scale',
  'links',
  'extends',
  'secrets',
  'configs',
  'oom_score_adj',
  'security_opt',
  'logging',
  'build',
  'platform',
  'pull_policy',
  'volumes_from',
  'ipc',
  'pid',
  'shm_size',
  'x-meta',
  'provider',
  'annotations',
  'cgroup',
  'uts',
];
const TOP_KEYS = ['services', 'networks', 'volumes', 'secrets', 'configs', 'include', 'name', 'version', 'x-common', 'models'];
const SPECIAL_PATHS = [
  '/dev/zero',
  '/dev/null',
  '/proc/self/environ',
  '/proc/self/mem',
  '/',
  '/etc',
  'missing.env',
  '../../../../etc/hostname',
  'fifo',
  'link-to-zero',
  'sub/other.yaml',
];
const STRINGS = [
  '',
  'busybox',
  'busybox:latest',
  '${A}',
  '${A:-x}',
  '${A:?needed}',
  '${A:-${B:-${C}}}',
  '${',
  '${}',
  '${A:}',
  '$${A}',
  '$A$B',
  '${__proto__}',
  '${constructor}',
  '$',
  '$1',
  '$(id)',
  '1',
  '-1',
  '0x10',
  '1e400',
  '99999999999999999999',
  '1.5',
  'true',
  'no',
  'null',
  '~',
  '.inf',
  '80',
  '8080:80',
  '127.0.0.1:80:80/udp',
  '1-65535:1-65535',
  '80-90:80',
  ':80',
  '::1:80:80',
  'a:b:c:d',
  '/data',
  './data:/data:ro',
  'vol:/data:rw,nocopy',
  'tmpfs:/t:size=1g',
  '10s',
  '1h2m3s',
  '-5s',
  '1y',
  '512m',
  '1g',
  '-1',
  '9999999999999999g',
  'NONE',
  'CMD-SHELL',
  'service:web',
  'container:x',
  'host',
  'none',
  'bridge',
  'SIGKILL',
  'SIGFOO',
  '0:0',
  'root',
  'a=b',
  '=b',
  'a=',
  'KEY',
  'é',
  '\\u0000',
  'x'.repeat(5000),
  '../../../../etc/passwd',
  '/dev/zero',
  'always',
  'unless-stopped',
  'on-failure:3',
  'on-failure:-1',
];
const NUMBERS = [0, -1, 1, 80, 65535, 65536, 1000, 1001, -1000, 5000, 2 ** 31, 2 ** 53 + 1, 1e308, -0, 0.5, 99999999999999];

function scalarText(rng: Rng): string {
  const r = rng.next();
  if (r < 0.55) {
    const s = rng.pick(STRINGS);
    return rng.chance(0.5) ? JSON.stringify(s) : /^[A-Za-z0-9_./-]+$/.test(s) ? s : JSON.stringify(s);
  }
  if (r < 0.8) return String(rng.pick(NUMBERS));
  return rng.pick([
    'true',
    'false',
    'null',
    '~',
    '.inf',
    '.nan',
    '0o777',
    '0x1F',
    '2001-01-01',
    '!!binary aGk=',
    '!reset null',
    '!override x',
    '!custom x',
    '!!int x',
    '[]',
    '{}',
  ]);
}

function nameText(rng: Rng, pool: readonly string[]): string {
  const n = rng.chance(0.25) ? rng.pick(HOSTILE_NAMES) : rng.pick(pool);
  return /^[A-Za-z0-9_.-]+$/.test(n) ? n : JSON.stringify(n);
}

/** A random YAML value (flow style) at most `depth` deep. */
function valueText(rng: Rng, depth: number, anchors: string[]): string {
  const r = rng.next();
  if (anchors.length > 0 && r < 0.05) return `*${rng.pick(anchors)}`;
  if (depth <= 0 || r < 0.5) return scalarText(rng);
  if (r < 0.75) {
    const n = rng.int(0, 4);
    return `[${Array.from({ length: n }, () => valueText(rng, depth - 1, anchors)).join(', ')}]`;
  }
  const n = rng.int(0, 4);
  const keys = new Set<string>();
  for (let i = 0; i < n; i++)
    keys.add(
      nameText(rng, [
        'a',
        'b',
        'target',
        'published',
        'source',
        'type',
        'service',
        'file',
        'path',
        'condition',
        'required',
        'test',
        'soft',
        'hard',
        'replicas',
        'resources',
        'limits',
        'memory',
        'cpus',
        'aliases',
        'ipv4_address',
        'driver',
        'external',
        'name',
        'format',
        'bind',
        'volume',
        'read_only',
      ]),
    );
  if (anchors.length > 0 && rng.chance(0.1)) keys.add(`<<: *${rng.pick(anchors)}`);
  return `{${[...keys].map((k) => (k.startsWith('<<') ? k : `${k}: ${valueText(rng, depth - 1, anchors)}`)).join(', ')}}`;
}

/** A value shaped for one service key, most of the time, else any value. */
function serviceValue(rng: Rng, key: string, services: string[], anchors: string[]): string {
  if (rng.chance(0.15)) return valueText(rng, 3, anchors);
  const svc = (): string => (rng.chance(0.8) && services.length ? rng.pick(services) : rng.pick(HOSTILE_NAMES));
  const list = (f: () => string): string => `[${Array.from({ length: rng.int(0, 4) }, f).join(', ')}]`;
  const str = (s: string): string => JSON.stringify(s);
  switch (key) {
    case 'image':
      return str(rng.pick(['busybox', 'busybox:latest', '', '${IMG}', 'a/b/c:d@sha256:00', 'UPPER', ':', 'x'.repeat(300)]));
    case 'ports':
      return list(() =>
        rng.chance(0.7)
          ? str(rng.pick(STRINGS.slice(26, 34).concat(['65535', '0', '1-2:3-4', '80/sctp', '80/icmp'])))
          : `{target: ${rng.pick(NUMBERS)}, published: ${scalarText(rng)}}`,
      );
    case 'depends_on':
    case 'links':
    case 'volumes_from':
      return rng.chance(0.5)
        ? list(() => str(svc()))
        : `{${Array.from({ length: rng.int(0, 3) }, () => `${str(svc())}: {condition: ${rng.pick(['service_started', 'service_healthy', 'service_completed_successfully', 'bogus'])}, required: ${rng.pick(['true', 'false', '"no"'])}}`).join(', ')}}`;
    case 'network_mode':
    case 'ipc':
    case 'pid':
    case 'cgroup':
      return str(rng.pick(['host', 'none', `service:${svc()}`, 'container:x', 'bridge', '']));
    case 'extends':
      return rng.chance(0.5) ? str(svc()) : `{service: ${str(svc())}${rng.chance(0.5) ? `, file: ${str(rng.pick(SPECIAL_PATHS))}` : ''}}`;
    case 'env_file':
      return rng.chance(0.5)
        ? str(rng.pick(SPECIAL_PATHS))
        : list(() => `{path: ${str(rng.pick(SPECIAL_PATHS))}, required: ${rng.pick(['true', 'false'])}${rng.chance(0.3) ? ', format: raw' : ''}}`);
    case 'environment':
    case 'labels':
    case 'sysctls':
    case 'annotations':
      return rng.chance(0.5)
        ? list(() => str(`${rng.pick(HOSTILE_NAMES)}=${rng.pick(STRINGS)}`))
        : `{${Array.from({ length: rng.int(0, 4) }, () => `${nameText(rng, ['A', 'B', 'PATH'])}: ${scalarText(rng)}`).join(', ')}}`;
    case 'volumes':
      return list(() =>
        rng.chance(0.6)
          ? str(rng.pick(STRINGS.slice(39, 44).concat(['a:b:c:d', ':/x', '/x:', 'vol:/data', '${V}:/d'])))
          : `{type: ${rng.pick(['bind', 'volume', 'tmpfs', 'npipe', 'image', 'bogus'])}, source: ${scalarText(rng)}, target: ${scalarText(rng)}}`,
      );
    case 'healthcheck':
      return `{test: ${rng.pick(['["CMD", "true"]', '"NONE"', '["NONE"]', '[]', '"exit 0"', '[CMD-SHELL]'])}, interval: ${scalarText(rng)}, retries: ${rng.pick(NUMBERS)}}`;
    case 'deploy':
      return `{replicas: ${rng.pick(NUMBERS)}, resources: {limits: {memory: ${scalarText(rng)}, cpus: ${scalarText(rng)}, pids: ${rng.pick(NUMBERS)}}}}`;
    case 'ulimits':
      return `{nofile: ${rng.chance(0.5) ? rng.pick(NUMBERS) : `{soft: ${rng.pick(NUMBERS)}, hard: ${rng.pick(NUMBERS)}}`}}`;
    case 'scale':
    case 'oom_score_adj':
    case 'pids_limit':
    case 'cpus':
      return String(rng.pick(NUMBERS));
    case 'networks':
      return rng.chance(0.5)
        ? list(() => str(rng.pick(['default', 'front', ...HOSTILE_NAMES.slice(0, 6)])))
        : `{${str(rng.pick(['default', 'front', 'constructor']))}: {aliases: [${str(rng.pick(STRINGS))}], ipv4_address: ${str(rng.pick(['10.0.0.1', '999.1.1.1', '']))}}}`;
    case 'tmpfs':
      return list(() => str(rng.pick(['/run', '/run:size=1g,mode=1777', '/x:size=-1', '/x:mode=99', 'relative', ''])));
    case 'cap_add':
    case 'cap_drop':
      return list(() => str(rng.pick(['ALL', 'NET_ADMIN', 'CAP_SYS_ADMIN', 'bogus', ''])));
    default:
      return valueText(rng, 2, anchors);
  }
}

/** A compose file of random services and top-level sections. */
function structured(rng: Rng, extraFiles: string[]): string {
  const services = Array.from({ length: rng.int(1, 5) }, (_, i) => (rng.chance(0.15) ? rng.pick(HOSTILE_NAMES) : `s${i}`));
  const anchors: string[] = [];
  const lines: string[] = [];
  if (rng.chance(0.3)) {
    anchors.push('base');
    lines.push(`x-base: &base ${valueText(rng, 2, [])}`);
  }
  const tops = new Set(['services']);
  for (let i = 0; i < rng.int(0, 3); i++) tops.add(rng.chance(0.9) ? rng.pick(TOP_KEYS) : rng.pick(HOSTILE_NAMES));
  for (const top of tops) {
    if (top === 'services') {
      lines.push('services:');
      for (const s of new Set(services)) {
        lines.push(`  ${JSON.stringify(s)}:`);
        if (rng.chance(0.85)) lines.push(`    image: busybox`);
        const keys = new Set<string>();
        for (let k = 0; k < rng.int(0, 6); k++) keys.add(rng.chance(0.95) ? rng.pick(SERVICE_KEYS) : rng.pick(HOSTILE_NAMES));
        keys.delete('image');
        if (anchors.length && rng.chance(0.3)) lines.push(`    <<: *base`);
        for (const k of keys) lines.push(`    ${/^[A-Za-z0-9_.-]+$/.test(k) ? k : JSON.stringify(k)}: ${serviceValue(rng, k, services, anchors)}`);
      }
    } else if (top === 'include') {
      lines.push(`include: [${Array.from({ length: rng.int(1, 2) }, () => JSON.stringify(rng.pick([...extraFiles, ...SPECIAL_PATHS]))).join(', ')}]`);
    } else if (top === 'name') {
      lines.push(`name: ${JSON.stringify(rng.pick(['proj', '', 'UPPER', 'a'.repeat(100), '-x', ...HOSTILE_NAMES]))}`);
    } else {
      lines.push(`${JSON.stringify(top)}: ${valueText(rng, 3, anchors)}`);
    }
  }
  return lines.join('\n') + '\n';
}

const corpusRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/corpus');
let corpusFiles: string[] | undefined;
function corpus(): string[] {
  if (corpusFiles) return corpusFiles;
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d).sort()) {
      const f = path.join(d, n);
      if (statSync(f).isDirectory()) walk(f);
      else if (/\.ya?ml$/.test(n) && statSync(f).size < 64 * 1024) out.push(f);
    }
  };
  walk(corpusRoot);
  return (corpusFiles = out);
}

/** A corpus file with a few line and byte mutations. */
function mutated(rng: Rng): string {
  const lines = readFileSync(rng.pick(corpus()), 'utf8').split('\n');
  for (let m = rng.int(1, 4); m > 0; m--) {
    const i = rng.int(0, Math.max(0, lines.length - 1));
    const r = rng.next();
    if (r < 0.2) lines.splice(i, 1);
    else if (r < 0.4) lines.splice(i, 0, lines[rng.int(0, lines.length - 1)] ?? '');
    else if (r < 0.6) lines[i] = (lines[i] ?? '').replace(/: .*$/, `: ${scalarText(rng)}`);
    else if (r < 0.75) lines[i] = `${' '.repeat(rng.int(0, 8))}${(lines[i] ?? '').trimStart()}`;
    else if (r < 0.9) {
      const l = lines[i] ?? '';
      const at = rng.int(0, l.length);
      lines[i] = l.slice(0, at) + rng.pick(['&a ', '*a', '<<: ', '${', '}', '"', "'", '[', '{', '!reset ', '#', '\\', ':', '- ', '\t']) + l.slice(at);
    } else lines[i] = (lines[i] ?? '').replace(/^(\s*)[^:\s]+:/, `$1${nameText(rng, ['k'])}:`);
  }
  return lines.join('\n');
}

/** One of the issue's reproducers, mostly at sizes that stay inside the limits. */
function reproducer(rng: Rng): string {
  switch (rng.int(0, 7)) {
    case 0:
      return R.aliasBomb(rng.int(2, 6), rng.int(2, 9));
    case 1:
      return R.mergeKeyBomb(rng.int(2, 14));
    case 2:
      return R.deepMappings(rng.int(50, 300));
    case 3:
      return R.deepFlow(rng.int(50, 3000));
    case 4:
      return R.nestedInterpolation(rng.int(10, 200));
    case 5:
      return R.extendsChain(rng.int(2, 150));
    case 6:
      return R.dependsOnChain(rng.int(2, 300), rng.chance(0.5));
    default:
      return R.protoKey(rng.pick(['top', 'service', 'environment', 'labels', 'extends', 'x-key', 'services'] as const));
  }
}

const ENV_LINES = [
  'A=1',
  'B="x\\ny"',
  "C='${A}'",
  'D=${A:-${B}}',
  'export E=2',
  '=x',
  'F',
  '#c',
  'G=${',
  'H="unterminated',
  'NODE_OPTIONS=--require ./x.js',
  'LD_PRELOAD=./x.so',
  'COMPOSE_FILE=:::',
  'COMPOSE_PROJECT_NAME=UPPER',
  'COMPOSE_PROFILES=*',
  'I=\u0001',
];

/** Command lines: the global flags, then `config` (with its flags) or `plan`. */
function commandLine(rng: Rng, files: string[]): string[] {
  const args: string[] = [];
  if (rng.chance(0.15)) args.push('-f', rng.pick([...files, ...SPECIAL_PATHS, '-', '']));
  if (rng.chance(0.1)) args.push('--env-file', rng.pick(['.env', 'other.env', ...SPECIAL_PATHS]));
  if (rng.chance(0.15)) args.push('-p', rng.pick(['p', 'UPPER', '', '-x', 'a'.repeat(80), '../x', ...HOSTILE_NAMES]));
  if (rng.chance(0.1)) args.push('--profile', rng.pick(['*', '', 'dev', ...HOSTILE_NAMES]));
  if (rng.chance(0.2)) {
    args.push('plan');
    if (rng.chance(0.5))
      args.push(
        '--scale',
        `${rng.pick(['s0', 'web', '', 'constructor'])}=${rng.pick(['1', '0', '1000', '1001', '100000', '99999999999999999999', '-1', 'x'])}`,
      );
    return args;
  }
  args.push('config');
  const flags = [
    '--services',
    '--volumes',
    '--profiles',
    '--images',
    '--format json',
    '-q',
    '--environment',
    '--no-interpolate',
    '--no-consistency',
    '--no-path-resolution',
    '--hash *',
  ];
  for (let i = rng.int(0, 2); i > 0; i--) args.push(...rng.pick(flags).split(' '));
  return args;
}

/** Case `rng` of a fuzz run. */
export function composeCase(rng: Rng): ComposeCase {
  const files: Record<string, CaseFile> = {};
  const r = rng.next();
  files['sub/other.yaml'] = rng.chance(0.5) ? structured(rng, []) : 'services:\n  other:\n    image: busybox\n';
  files['compose.yaml'] = r < 0.5 ? structured(rng, ['sub/other.yaml']) : r < 0.85 ? mutated(rng) : reproducer(rng);
  files['fifo'] = { fifo: true };
  files['link-to-zero'] = { symlink: '/dev/zero' };
  if (rng.chance(0.3))
    files['.env'] = Array.from({ length: rng.int(1, 5) }, () => (rng.chance(0.8) ? rng.pick(ENV_LINES.slice(0, 5)) : rng.pick(ENV_LINES))).join('\n') + '\n';
  if (rng.chance(0.02)) files['compose.override.yaml'] = { fifo: true };
  else if (rng.chance(0.2)) files['compose.override.yaml'] = structured(rng, []);
  const env: Record<string, string> = {};
  if (rng.chance(0.3)) env.A = rng.pick(STRINGS);
  if (rng.chance(0.05)) env.COMPOSE_FILE = rng.pick([':::', '', 'compose.yaml::sub/other.yaml', '/dev/zero', 'fifo', 'link-to-zero']);
  if (rng.chance(0.05)) env.COMPOSE_PATH_SEPARATOR = rng.pick(['', ';', '::', 'o']);
  if (rng.chance(0.05)) env.COMPOSE_PROFILES = rng.pick(['*', ',,,', 'a,constructor']);
  return { files, env, args: commandLine(rng, Object.keys(files)) };
}
