#!/usr/bin/env node
// Generates src/engine/init/seccomp/profile.generated.ts from two sources, so neither the policy nor
// a syscall number is ever typed by hand:
// - scripts/seccomp/docker-default.json: a verbatim copy of Docker's default seccomp profile
//   (moby/profiles seccomp/default.json, Apache-2.0; scripts/seccomp/README.md says which commit);
// - the kernel's syscall tables from the installed Linux headers: Debian's linux-libc-dev for
//   x86_64 (<asm/unistd_64.h>), i386 (<asm/unistd_32.h>), x32 (<asm/unistd_x32.h>) and aarch64
//   (<asm-generic/unistd.h> expanded by the C preprocessor with the __ARCH_WANT_* switches arm64's
//   <asm/unistd.h> sets); linux-libc-dev-armhf-cross for 32-bit arm (its <asm/unistd.h> as an
//   EABI compiler reads it, with the ARM-private calls).
// Run `node scripts/gen-seccomp.mjs` after updating either; `--check` exits 1 when the checked-in
// file differs from what would be generated.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const profilePath = path.join(root, 'scripts/seccomp/docker-default.json');
const outPath = path.join(root, 'src/engine/init/seccomp/profile.generated.ts');

/** Where 32-bit arm's headers are (Debian's linux-libc-dev-armhf-cross). */
const ARM_INCLUDE = '/usr/arm-linux-gnueabihf/include';
/** Not syscalls: the table's bounds and bases. */
const NOT_SYSCALLS = new Set(['syscalls', 'arch_specific_syscall', 'SYSCALL_BASE', 'OABI_SYSCALL_BASE', 'SYSCALL_MASK', 'BASE']);

/** `#define __NR_name value` (and arm's `__ARM_NR_name`) lines after preprocessing `source` → { name: number }. */
function syscallTable(source, gccArgs = [], headers = 'linux-libc-dev') {
  const gcc = (args, input) => execFileSync('gcc', [...gccArgs, ...args, '-x', 'c', '-'], { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  let defines;
  try {
    defines = gcc(['-E', '-dM'], source);
  } catch (e) {
    throw new Error(`cannot read the syscall table (${source.trim().replace(/\n/g, ' ')}): install ${headers}\n${e.stderr ?? e.message}`, { cause: e });
  }
  const names = [...defines.matchAll(/^#define __(?:ARM_)?NR_(\w+) /gm)].map((m) => m[1]).filter((n) => !NOT_SYSCALLS.has(n));
  // Let the preprocessor expand aliases such as __NR3264_fcntl, then evaluate the sums left.
  const macro = (n) => (defines.includes(`#define __NR_${n} `) ? `__NR_${n}` : `__ARM_NR_${n}`);
  const probe = `${source}\n${names.map((n) => `tsc_nr ${n} (${macro(n)})`).join('\n')}\n`;
  const expanded = gcc(['-E', '-P'], probe);
  const table = {};
  for (const m of expanded.matchAll(/^tsc_nr (\w+) (.+)$/gm)) {
    const expr = m[2].replace(/\s+/g, '');
    if (!/^[()0-9a-fA-FxUL+]+$/.test(expr)) throw new Error(`syscall ${m[1]}: cannot evaluate ${m[2]}`);
    table[m[1]] = expr
      .replace(/[()]/g, '')
      .split('+')
      .reduce((a, b) => a + Number(b.replace(/[UL]+$/, '')), 0);
  }
  if (Object.keys(table).length < 250) throw new Error(`suspiciously few syscalls in ${source.trim()}: are the kernel headers (${headers}) installed?`);
  return Object.fromEntries(Object.entries(table).sort((a, b) => a[1] - b[1]));
}

const X86_64 = syscallTable('#include <asm/unistd_64.h>\n');
// i386: the 32-bit calls an x86_64 kernel also takes (Docker's sub-architecture of x86_64)
const I386 = syscallTable('#include <asm/unistd_32.h>\n');
// x32: x86_64's ABI with 32-bit pointers; its numbers carry __X32_SYSCALL_BIT (0x40000000)
const X32 = syscallTable('#include <asm/unistd.h>\n', ['-D__ILP32__']); // <asm/unistd.h> reads <asm/unistd_x32.h> for an ILP32 compiler
// 32-bit arm (EABI) calls on aarch64: the cross headers read as an EABI compiler would (no host headers)
const ARM = syscallTable('#include <asm/unistd.h>\n', ['-nostdinc', '-D__ARM_EABI__', '-isystem', ARM_INCLUDE], 'linux-libc-dev-armhf-cross');
// arm64's <asm/unistd.h> (arch/arm64/include/uapi/asm/unistd.h) sets these, then includes the generic table.
const AARCH64 = syscallTable(
  ['RENAMEAT', 'NEW_STAT', 'SET_GET_RLIMIT', 'TIME32_SYSCALLS', 'SYS_CLONE3', 'MEMFD_SECRET'].map((w) => `#define __ARCH_WANT_${w}\n`).join('') +
    '#include <asm-generic/unistd.h>\n',
);

/** The profile as Docker writes it, less the comments (src/engine/init/seccomp/profile.ts reads it). */
function verbatim(profile) {
  return { ...profile, syscalls: profile.syscalls.map(({ comment: _, ...s }) => s) };
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
  if (!tail) throw new Error(`a rule for ${names.join(', ')} has no action`);
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

const profile = verbatim(JSON.parse(readFileSync(profilePath, 'utf8')));
const { syscalls, ...head } = profile;
const out = `// Generated by scripts/gen-seccomp.mjs from scripts/seccomp/docker-default.json (Docker's default
// seccomp profile, Apache-2.0, The Moby Authors) and the kernel headers. Do not edit: regenerate.
import type { DockerSeccompProfile } from './profile.js';

/** Docker's default profile, as Docker writes it (the comments left out) */
export const DOCKER_DEFAULT: DockerSeccompProfile = {
  ${literal(head).slice(2, -2)},
  syscalls: [
${syscalls.map(rule).join('\n')}
  ],
};

/** syscall name → number, x86_64 (<asm/unistd_64.h>) */
${table('SYSCALLS_X86_64', X86_64)}
/** syscall name → number, i386 (<asm/unistd_32.h>): 32-bit programs on x86_64 */
${table('SYSCALLS_I386', I386)}
/** syscall name → number, x32 (<asm/unistd_x32.h>): x86_64's 32-bit-pointer ABI, numbers with bit 30 set */
${table('SYSCALLS_X32', X32)}
/** syscall name → number, aarch64 (<asm-generic/unistd.h> as arm64 configures it) */
${table('SYSCALLS_AARCH64', AARCH64)}
/** syscall name → number, 32-bit arm, EABI (linux-libc-dev-armhf-cross <asm/unistd.h>, with the ARM-private calls) */
${table('SYSCALLS_ARM', ARM)}`;

if (process.argv.includes('--check')) {
  const cur = readFileSync(outPath, 'utf8');
  if (cur !== out) {
    console.error(`${path.relative(root, outPath)} is stale: run node scripts/gen-seccomp.mjs`);
    process.exit(1);
  }
} else {
  writeFileSync(outPath, out);
  console.log(
    `wrote ${path.relative(root, outPath)}: ${syscalls.length} rules; syscalls: ${Object.keys(X86_64).length} x86_64, ${Object.keys(I386).length} i386, ${Object.keys(X32).length} x32, ${Object.keys(AARCH64).length} aarch64, ${Object.keys(ARM).length} arm`,
  );
}
