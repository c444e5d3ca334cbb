/**
 * The builder's pure parts: Docker's substitution and quoting, the Dockerfile's stages and
 * instructions, .dockerignore semantics, globs, cache keys.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { stepKey } from '../../../src/build/cache.js';
import { contextTree, globRegExp, ignoreFileFor, ignorePatterns, openContext, resolveSources } from '../../../src/build/context.js';
import { parseDockerfile } from '../../../src/build/dockerfile.js';
import { parseDuration, setEnv } from '../../../src/build/state.js';
import { parseKeyValues, processWord, processWords, WordError } from '../../../src/build/words.js';

const vars = new Map([
  ['A', 'one'],
  ['EMPTY', ''],
  ['SP', 'a b'],
]);

describe('substitution', () => {
  it.each([
    ['$A', 'one'],
    ['${A}x', 'onex'],
    ['${NOPE:-dflt}', 'dflt'],
    ['${EMPTY:-dflt}', 'dflt'],
    ['${EMPTY-dflt}', ''],
    ['${A:+alt}', 'alt'],
    ['${NOPE:+alt}', ''],
    ['${EMPTY+alt}', 'alt'],
    ["'$A'", '$A'],
    ['"$A $SP"', 'one a b'],
    ['\\$A', '$A'],
    ['"\\$A"', '$A'],
    ['"a\\b"', 'a\\b'],
    ['$', '$'],
    ['$1', '$1'],
    ['${A:-${NOPE:-x}}', 'one'],
    ['${NOPE:-${A}}', 'one'],
  ])('%s → %s', (input, out) => {
    expect(processWord(input, vars)).toBe(out);
  });

  it('refuses ${VAR:?message} when unset, and broken syntax', () => {
    expect(() => processWord('${NOPE:?must be set}', vars)).toThrow(new WordError('NOPE: must be set'));
    expect(() => processWord('${A', vars)).toThrow(WordError);
    expect(() => processWord('${A%x}', vars)).toThrow(/unsupported modifier/);
    expect(() => processWord("'open", vars)).toThrow(/unterminated/);
  });

  it('uses the escape character of the file (backtick)', () => {
    expect(processWord('`$A', vars, '`')).toBe('$A');
    expect(processWord('C:\\dir', vars, '`')).toBe('C:\\dir');
  });

  it('splits words on unquoted whitespace', () => {
    expect(processWords('a "b c" $SP d\\ e', vars)).toEqual(['a', 'b c', 'a', 'b', 'd e']);
  });

  it('reads KEY=value pairs as ENV does: every value sees the variables from before the instruction', () => {
    expect(parseKeyValues('A=two B=$A C="x y" D=', vars)).toEqual([
      ['A', 'two'],
      ['B', 'one'],
      ['C', 'x y'],
      ['D', ''],
    ]);
    expect(parseKeyValues('OLD value with $A', vars, { legacy: true })).toEqual([['OLD', 'value with one']]);
    expect(parseKeyValues('NAME OTHER=1', vars, { allowBare: true })).toEqual([
      ['NAME', undefined],
      ['OTHER', '1'],
    ]);
    expect(() => parseKeyValues('NAME', vars)).toThrow(/KEY=value/);
  });
});

describe('Dockerfile', () => {
  it('splits global ARGs and stages, with lines, flags, JSON forms and heredocs', () => {
    const df = parseDockerfile(
      [
        '# syntax=docker/dockerfile:1',
        'ARG BASE=busybox',
        'FROM ${BASE} AS Build',
        'RUN echo a \\',
        '  # a comment inside',
        '  && echo b',
        'COPY --from=build --chown=1:2 a /b/',
        'CMD ["sh", "-c", "x"]',
        'FROM build',
        'RUN <<EOF',
        'echo heredoc',
        'EOF',
        'COPY <<-"END" /f',
        '\tliteral $A',
        'END',
      ].join('\n'),
    );
    expect(df.globalArgs.map((a) => a.args)).toEqual(['BASE=busybox']);
    expect(df.stages.map((s) => [s.name, s.from.line, s.instrs.length])).toEqual([
      ['build', 3, 3],
      [undefined, 9, 2],
    ]);
    const [run, copy, cmd] = df.stages[0]!.instrs;
    expect(run!.line).toBe(4);
    expect(run!.args.replace(/\s+/g, ' ')).toBe('echo a && echo b');
    expect(run!.text).toBe('RUN echo a \\');
    expect([...copy!.flags]).toEqual([
      ['from', 'build'],
      ['chown', '1:2'],
    ]);
    expect(cmd!.json).toEqual(['sh', '-c', 'x']);
    const [hrun, hcopy] = df.stages[1]!.instrs;
    expect(hrun!.heredocs).toEqual([{ name: 'EOF', content: 'echo heredoc\n', quoted: false }]);
    expect(hcopy!.heredocs).toEqual([{ name: 'END', content: 'literal $A\n', quoted: true }]);
  });

  it('names the line of what it refuses', () => {
    expect(() => parseDockerfile('RUN x\nFROM a\n')).toThrow(/^Dockerfile:1: RUN before the first FROM/);
    expect(() => parseDockerfile('FROM a AS x\nFROM b AS x\n')).toThrow(/^Dockerfile:2: stage name "x" is used twice/);
    expect(() => parseDockerfile('# nothing\n')).toThrow(/no FROM instruction/);
  });
});

describe('.dockerignore', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsc-build-unit-'));
  const files = ['a.txt', 'secret.key', 'logs/x.log', 'logs/keep.log', 'src/main.c', 'src/gen/out.o', 'docs/x.md'];
  for (const f of files) {
    mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    writeFileSync(path.join(dir, f), f);
  }

  it('reads patterns as Docker does and matches with its semantics (negation, **, directories)', () => {
    const pats = ignorePatterns('# comment\n\n/secret.key\nlogs\n!logs/keep.log\n**/*.o\n  docs/  \n');
    expect(pats).toEqual(['secret.key', 'logs', '!logs/keep.log', '**/*.o', 'docs']);
    const ctx = openContext(dir, pats);
    expect(ctx.ignored('secret.key')).toBe(true);
    expect(ctx.ignored('logs/x.log')).toBe(true);
    expect(ctx.ignored('logs/keep.log')).toBe(false);
    expect(ctx.ignored('src/gen/out.o')).toBe(true);
    expect(ctx.ignored('docs/x.md')).toBe(true);
    expect(ctx.ignored('a.txt')).toBe(false);
    expect(contextTree(ctx, '').map((s) => s.rel)).toEqual(['a.txt', 'logs', 'logs/keep.log', 'src', 'src/gen', 'src/main.c']);
  });

  it('resolves COPY sources: literal, globs, never outside the context or ignored', () => {
    const ctx = openContext(dir, ['secret.key']);
    expect(resolveSources(ctx, 'a.txt').map((s) => s.rel)).toEqual(['a.txt']);
    expect(resolveSources(ctx, '/src/../a.txt').map((s) => s.rel)).toEqual(['a.txt']);
    expect(resolveSources(ctx, '*.key')).toEqual([]);
    expect(resolveSources(ctx, '*.txt').map((s) => s.rel)).toEqual(['a.txt']);
    expect(resolveSources(ctx, 'logs/*.log').map((s) => s.rel)).toEqual(['logs/keep.log', 'logs/x.log']);
    expect(resolveSources(ctx, '../etc/passwd').map((s) => s.rel)).toEqual([]);
    expect(globRegExp('[a-c]?.t*').test('b1.txt')).toBe(true);
    expect(globRegExp('*').test('a/b')).toBe(false);
  });

  it('prefers <Dockerfile>.dockerignore beside the Dockerfile', () => {
    writeFileSync(path.join(dir, '.dockerignore'), 'a\n');
    expect(ignoreFileFor(dir, path.join(dir, 'Dockerfile'))).toBe(path.join(dir, '.dockerignore'));
    writeFileSync(path.join(dir, 'Dockerfile.dockerignore'), 'b\n');
    expect(ignoreFileFor(dir, path.join(dir, 'Dockerfile'))).toBe(path.join(dir, 'Dockerfile.dockerignore'));
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('cache keys and config helpers', () => {
  it('chains the parent key: the same step on another parent is another key', () => {
    const a = stepKey('p1', ['RUN', 'make', []]);
    expect(stepKey('p1', ['RUN', 'make', []])).toBe(a);
    expect(stepKey('p2', ['RUN', 'make', []])).not.toBe(a);
    expect(stepKey('p1', ['RUN', 'make', [['V', '1']]])).not.toBe(a);
  });

  it('replaces an ENV in place and parses durations', () => {
    expect(setEnv(['A=1', 'B=2'], 'A', '3')).toEqual(['A=3', 'B=2']);
    expect(setEnv(['A=1'], 'C', '3')).toEqual(['A=1', 'C=3']);
    expect(parseDuration('1m30s')).toBe(90e9);
    expect(parseDuration('500ms')).toBe(5e8);
    expect(parseDuration('5x')).toBeUndefined();
  });
});
