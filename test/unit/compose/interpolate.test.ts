import { describe, expect, it } from 'vitest';

import { substitute, type InterpolationContext } from '../../../src/compose/interpolate.js';
import { TscError } from '../../../src/common/errors.js';
import { rejection, withProject } from './helpers.js';

function ctx(vars: Record<string, string>): InterpolationContext {
  return {
    lookup: (n) => (n in vars ? { value: vars[n], source: 'shell' } : undefined),
    report: new Map(),
    warnings: [],
  };
}

const sub = (s: string, vars: Record<string, string> = {}) => substitute(s, ctx(vars), 'test');

describe('interpolation syntax', () => {
  it('substitutes $VAR and ${VAR}', () => {
    expect(sub('$A-${B}', { A: 'x', B: 'y' })).toBe('x-y');
    expect(sub('pre${A}post', { A: '1' })).toBe('pre1post');
    expect(sub('$A_B', { A: '1', A_B: '2' })).toBe('2');
  });
  it('treats $$ as a literal dollar and does not expand after it', () => {
    expect(sub('$$A', { A: 'x' })).toBe('$A');
    expect(sub('cost: $$5 and ${A}', { A: 'x' })).toBe('cost: $5 and x');
    expect(sub('$${A}', { A: 'x' })).toBe('${A}');
  });
  it(':- uses the default when unset or empty, - only when unset', () => {
    expect(sub('${A:-d}')).toBe('d');
    expect(sub('${A:-d}', { A: '' })).toBe('d');
    expect(sub('${A-d}', { A: '' })).toBe('');
    expect(sub('${A-d}')).toBe('d');
    expect(sub('${A:-d}', { A: 'v' })).toBe('v');
  });
  it(':+ and + give the alternative when set', () => {
    expect(sub('${A:+alt}', { A: 'v' })).toBe('alt');
    expect(sub('${A:+alt}', { A: '' })).toBe('');
    expect(sub('${A+alt}', { A: '' })).toBe('alt');
    expect(sub('${A+alt}')).toBe('');
  });
  it('expands nested expressions in defaults', () => {
    expect(sub('${A:-${B:-deep}}')).toBe('deep');
    expect(sub('${A:-${B}}', { B: 'b' })).toBe('b');
    expect(sub('${A:-x${B:-y}z}')).toBe('xyz');
  });
  it('keeps ":" and a balanced "}" inside defaults', () => {
    expect(sub('${URL:-http://localhost:8080/x}')).toBe('http://localhost:8080/x');
    expect(sub('${A:-{"k": 1}}')).toBe('{"k": 1}');
    expect(sub('${A:-a}b}')).toBe('ab}');
    expect(sub('${A:-:}')).toBe(':');
  });
  it('fails on required variables with the message and where', () => {
    expect(() => sub('${A:?please set A}')).toThrow(/required variable A .*test.*please set A/);
    expect(() => sub('${A:?}', { A: '' })).toThrow(/A is empty/);
    expect(sub('${A?}', { A: '' })).toBe('');
    expect(() => sub('${A?no}')).toThrow(TscError);
  });
  it('rejects malformed expressions', () => {
    expect(() => sub('${A')).toThrow(/never closed/);
    expect(() => sub('${}')).toThrow(/invalid interpolation/);
    expect(() => sub('${A:x}')).toThrow(/unknown operator/);
    expect(() => sub('${ A}')).toThrow(/invalid interpolation/);
    expect(() => sub('${A }')).toThrow(/invalid interpolation/);
    expect(() => sub('${A!}')).toThrow(/invalid interpolation/);
    try {
      sub('${1A}');
    } catch (e) {
      expect((e as TscError).code).toBe('SPEC_INTERPOLATION');
    }
  });
  it('keeps a "$" that starts no variable as written, as compose-go does', () => {
    expect(sub('sh -c "echo $(hostname)"')).toBe('sh -c "echo $(hostname)"');
    expect(sub("awk '{print $0}'")).toBe("awk '{print $0}'");
    expect(sub('price $5 and $1')).toBe('price $5 and $1');
    expect(sub('cost: 5$')).toBe('cost: 5$');
    expect(sub('$ $- $. $/')).toBe('$ $- $. $/');
    // `$$` still escapes, `$NAME` and `${NAME}` still interpolate
    expect(sub('$$HOME $$(x) $$$A', { A: 'a' })).toBe('$HOME $(x) $a');
    expect(sub('$(echo $A)', { A: 'a' })).toBe('$(echo a)');
    expect(sub('$A$', { A: 'a' })).toBe('a$');
  });
  it('warns and blanks an unset variable', () => {
    const c = ctx({});
    expect(substitute('a${NOPE}b', c, 'here')).toBe('ab');
    expect(c.warnings[0]).toMatch(/NOPE.*not set/);
    expect(c.report.get('NOPE')?.source).toBe('unset');
  });
});

describe('interpolation in compose files', () => {
  it('interpolates inside lists (key part of KEY=VALUE entries too) and mapping values; mapping keys stay as written, as in Compose; typed values are cast', async () => {
    await withProject(async (p) => {
      p.write(
        'compose.yaml',
        [
          'services:',
          '  web:',
          '    image: ${IMG}:${TAG:-latest}',
          '    environment:',
          '      - GREETING=${HELLO}',
          '      - ${DYN_KEY}=dynamic',
          '      - LITERAL=$$HOME',
          '    labels:',
          '      ${LABEL_KEY}: yes',
          '    deploy:',
          '      replicas: ${N}',
          '    read_only: ${RO}',
          '    ports:',
          '      - "${PORT}:80"',
          '',
        ].join('\n'),
      );
      const proj = await p.load({ env: { IMG: 'busybox', HELLO: 'hi', DYN_KEY: 'FROM_LIST_KEY', LABEL_KEY: 'team', N: '3', RO: 'true', PORT: '8081' } });
      const web = proj.services.web;
      expect(web.image).toBe('busybox:latest');
      expect(web.environment).toEqual({ GREETING: 'hi', FROM_LIST_KEY: 'dynamic', LITERAL: '$HOME' });
      expect(web.labels).toEqual({ '${LABEL_KEY}': 'yes' });
      expect(web.deploy?.replicas).toBe(3);
      expect(web.read_only).toBe(true);
      expect(web.ports[0].published).toBe('8081');
    });
  });

  it('shell beats --env-file beats nothing; .env is used only without --env-file; the report says which', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  web:\n    image: ${IMG}\n    environment:\n      A: ${A}\n      B: ${B:-fallback}\n      C: ${C}\n');
      p.write('.env', 'IMG=from-dotenv\nA=dotenv-a\n');
      p.write('custom.env', 'IMG=from-envfile\nC=envfile-c\n');
      const viaDotenv = await p.load({ env: { A: 'shell-a' } });
      expect(viaDotenv.services.web.image).toBe('from-dotenv');
      expect(viaDotenv.services.web.environment.A).toBe('shell-a');
      const env = Object.fromEntries(viaDotenv.environment.map((e) => [e.name, e]));
      expect(env.IMG.source).toBe('dotenv');
      expect(env.A.source).toBe('shell');
      expect(env.B).toMatchObject({ source: 'default', value: 'fallback' });
      expect(env.C.source).toBe('unset');
      expect(env.IMG.usedIn[0]).toMatch(/compose\.yaml:3:5 services\.web\.image$/);

      const viaEnvFile = await p.load({ env: {}, envFiles: ['custom.env'] });
      expect(viaEnvFile.services.web.image).toBe('from-envfile');
      expect(viaEnvFile.services.web.environment.A).toBe('');
      const env2 = Object.fromEntries(viaEnvFile.environment.map((e) => [e.name, e]));
      expect(env2.IMG.source).toBe('env-file');
      expect(env2.C).toMatchObject({ source: 'env-file', value: 'envfile-c' });
    });
  });

  it('a required variable names itself and the file position', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  web:\n    image: ${IMAGE:?set IMAGE to the image to run}\n');
      const e = await rejection(p.load());
      expect(e.code).toBe('SPEC_INTERPOLATION');
      expect(e.message).toMatch(/IMAGE/);
      expect(e.message).toMatch(/compose\.yaml:3:5 services\.web\.image/);
      expect(e.message).toMatch(/set IMAGE to the image to run/);
    });
  });
});
