#!/usr/bin/env node
// Generates src/engine/init/seccomp/profile.generated.ts from two sources, so neither the policy nor
// a syscall number is ever typed by hand:
// - scripts/seccomp/docker-default.json: a verbatim copy of Docker's default seccomp profile
//   (moby/profiles seccomp/default.json, Apache-2.0; scripts/seccomp/README.md says which commit);
// - the kernel's syscall tables from the installed Linux headers (Debian's linux-libc-dev):
//   x86_64 from <asm/unistd_64.h>, i386 from <asm/unistd_32.h>, aarch64 from <asm-generic/unistd.h> expanded by the C
//   preprocessor with the __ARCH_WANT_* switches arm64's <asm/unistd.h> sets.
// Run `node scripts/gen-seccomp.mjs` after updating either; `--check` exits 1 when the checked-in
// file differs from what would be generated.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const profilePath = path.join(root, 'scripts/seccomp/docker-default.json');
const outPath = path.join(root, 'src/engine/init/seccomp/profile.generated.ts');

/** `#define __NR_name value` lines after preprocessing `source` → { name: number }. */
function syscallTable(source) {
  const defines = execFileSync('gcc', ['-E', '-dM', '-x', 'c', '-'], { input: source, encoding: 'utf8' });
  const names = [...defines.matchAll(/^#define __NR_(\w+) /gm)].map((m) => m[1]).filter((n) => n !== 'syscalls' && n !== 'arch_specific_syscall');
  // Let the preprocessor expand aliases such as __NR3264_fcntl, then evaluate the sums left.
  const probe = `${source}\n${names.map((n) => `tsc_nr ${n} (__NR_${n})`).join('\n')}\n`;
  const expanded = execFileSync('gcc', ['-E', '-P', '-x', 'c', '-'], { input: probe, encoding: 'utf8' });
  const table = {};
  for (const m of expanded.matchAll(/^tsc_nr (\w+) (.+)$/gm)) {
    const expr = m[2].replace(/\s+/g, '');
    if (!/^[()0-9+]+$/.test(expr)) throw new Error(`syscall ${m[1]}: cannot evaluate ${m[2]}`);
    table[m[1]] = expr
      .replace(/[()]/g, '')
      .split('+')
      .reduce((a, b) => a + Number(b), 0);
  }
  if (Object.keys(table).length < 250) throw new Error('suspiciously few syscalls: are the kernel headers (linux-libc-dev) installed?');
  return Object.fromEntries(Object.entries(table).sort((a, b) => a[1] - b[1]));
}

const X86_64 = syscallTable('#include <asm/unistd_64.h>\n');
// i386: the 32-bit calls an x86_64 kernel also takes (Docker's sub-architecture of x86_64)
const I386 = syscallTable('#include <asm/unistd_32.h>\n');
// arm64's <asm/unistd.h> (arch/arm64/include/uapi/asm/unistd.h) sets these, then includes the generic table.
const AARCH64 = syscallTable(
  ['RENAMEAT', 'NEW_STAT', 'SET_GET_RLIMIT', 'TIME32_SYSCALLS', 'SYS_CLONE3', 'MEMFD_SECRET'].map((w) => `#define __ARCH_WANT_${w}\n`).join('') +
    '#include <asm-generic/unistd.h>\n',
);

/** The profile's rules in the shape the compiler reads (src/engine/seccomp/profile.ts: ProfileRule). */
function rules(profile) {
  return profile.syscalls.map((s) => {
    const r = { names: s.names ?? [s.name], action: s.action === 'SCMP_ACT_ALLOW' ? 'allow' : 'errno' };
    if (s.action !== 'SCMP_ACT_ALLOW' && s.action !== 'SCMP_ACT_ERRNO') throw new Error(`unsupported action ${s.action}`);
    if (r.action === 'errno') r.errno = s.errnoRet ?? profile.defaultErrnoRet;
    if (s.args?.length) r.args = s.args.map((a) => ({ index: a.index, op: a.op.replace('SCMP_CMP_', ''), value: a.value, valueTwo: a.valueTwo ?? 0 }));
    for (const key of ['includes', 'excludes']) {
      const c = s[key];
      if (!c || !Object.keys(c).length) continue;
      r[key] = {};
      if (c.arches) r[key].arches = c.arches;
      if (c.caps) r[key].caps = c.caps.map((x) => x.replace(/^CAP_/, ''));
      if (c.minKernel) r[key].minKernel = c.minKernel;
    }
    return r;
  });
}

/** A value as a TypeScript literal: unquoted keys, single-quoted strings, spaces after separators. */
function literal(v) {
  return JSON.stringify(v)
    .replace(/"(\w+)":/g, '$1: ')
    .replace(/"/g, "'")
    .replace(/,(?=\S)/g, ', ')
    .replace(/\{(?=\S)/g, '{ ')
    .replace(/(?<=\S)\}/g, ' }');
}

/** One rule: short name lists on one line, long ones eight names to a line. */
function rule(r) {
  const { names, ...rest } = r;
  const tail = literal(rest).slice(2, -2);
  if (names.length <= 8) return `  { names: ${literal(names)}, ${tail} },`;
  const lines = [];
  for (let i = 0; i < names.length; i += 8) lines.push(`      ${literal(names.slice(i, i + 8)).slice(1, -1)},`);
  return `  {\n    names: [\n${lines.join('\n')}\n    ],\n    ${tail},\n  },`;
}

function table(name, t) {
  const entries = Object.entries(t).map(([k, v]) => `${k}: ${v}`);
  const lines = [];
  for (let i = 0; i < entries.length; i += 8) lines.push(`  ${entries.slice(i, i + 8).join(', ')},`);
  return `export const ${name}: Readonly<Record<string, number>> = {\n${lines.join('\n')}\n};\n`;
}

const profile = JSON.parse(readFileSync(profilePath, 'utf8'));
if (profile.defaultAction !== 'SCMP_ACT_ERRNO') throw new Error(`unexpected defaultAction ${profile.defaultAction}`);
const out = `// Generated by scripts/gen-seccomp.mjs from scripts/seccomp/docker-default.json (Docker's default
// seccomp profile, Apache-2.0, The Moby Authors) and the kernel headers. Do not edit: regenerate.
import type { ProfileRule } from './profile.js';

/** errno for a syscall no rule allows (the profile's defaultErrnoRet) */
export const DEFAULT_ERRNO = ${profile.defaultErrnoRet};

export const RULES: readonly ProfileRule[] = [
${rules(profile).map(rule).join('\n')}
];

/** syscall name → number, x86_64 (<asm/unistd_64.h>) */
${table('SYSCALLS_X86_64', X86_64)}
/** syscall name → number, i386 (<asm/unistd_32.h>): 32-bit programs on x86_64 */
${table('SYSCALLS_I386', I386)}
/** syscall name → number, aarch64 (<asm-generic/unistd.h> as arm64 configures it) */
${table('SYSCALLS_AARCH64', AARCH64)}`;

if (process.argv.includes('--check')) {
  const cur = readFileSync(outPath, 'utf8');
  if (cur !== out) {
    console.error(`${path.relative(root, outPath)} is stale: run node scripts/gen-seccomp.mjs`);
    process.exit(1);
  }
} else {
  writeFileSync(outPath, out);
  console.log(
    `wrote ${path.relative(root, outPath)}: ${profile.syscalls.length} rules, ${Object.keys(X86_64).length} x86_64, ${Object.keys(I386).length} i386 and ${Object.keys(AARCH64).length} aarch64 syscalls`,
  );
}
