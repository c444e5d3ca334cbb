/**
 * Issue 14's hostile inputs (test/fuzz/reproducers.ts): each ends in a clean one-paragraph
 * error naming the file and, where there is one, the line and column; none hangs, overflows
 * the stack or grows without bound.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { parseScale } from '../../../src/cli/session.js';
import { LIMITS } from '../../../src/compose/index.js';
import * as R from '../../fuzz/reproducers.js';
import { rejection, withProject, type TempProject } from './helpers.js';

const web = 'services:\n  web:\n    image: busybox\n';

async function fails(p: TempProject, text: string, pattern: RegExp, opts: Parameters<TempProject['load']>[0] = {}): Promise<string> {
  p.write('compose.yaml', text);
  const e = await rejection(p.load(opts));
  expect(e.code, e.message).toMatch(/^SPEC_/);
  expect(e.message).toMatch(pattern);
  expect(e.message).not.toMatch(/\n\s+at /);
  return e.message;
}

describe('unbounded work from a small file', () => {
  it.each([
    ['a 9x9 alias bomb', R.aliasBomb()],
    ['merge keys doubling at 25 levels', R.mergeKeyBomb()],
    ['a million-leaf alias expansion', R.millionLeaves()],
  ])('%s stops at the value budget', async (_, text) => {
    await withProject(async (p) => {
      const msg = await fails(p, text, new RegExp(`grows past ${LIMITS.nodes} values once YAML anchors`));
      expect(msg).toMatch(/compose\.yaml:\d+:\d+: /);
    });
  });

  it('a port range repeated through many entries stops at the budget', async () => {
    await withProject(async (p) => {
      const ports = Array.from({ length: 10 }, (_, i) => `      - "127.0.0.${i + 1}:1-65535:1-65535"`).join('\n');
      await fails(p, `${web}    ports:\n${ports}\n`, /grows past \d+ values once port ranges are expanded/);
    });
  });

  it('scale and deploy.replicas above the limit are refused where written', async () => {
    await withProject(async (p) => {
      await fails(p, `${web}    scale: 100000\n`, /compose\.yaml:4:5: services\.web\.scale: 100000 is outside .* 0 to 1000/);
      await fails(p, `${web}    deploy: {replicas: 1000000000}\n`, /services\.web\.deploy\.replicas: 1000000000 is outside/);
      await fails(p, `${web}    deploy: {replicas: -1}\n`, /is outside/);
    });
  });

  it('the sum of replicas is bounded for the project', async () => {
    await withProject(async (p) => {
      const svcs = Array.from({ length: 11 }, (_, i) => `  s${i}:\n    image: busybox\n    scale: 1000\n`).join('');
      await fails(p, `services:\n${svcs}`, /ask for 11000 containers, more than the 10000/);
    });
  });

  it('--scale above the limit, or past any number, is a usage error', () => {
    for (const v of ['web=100000', 'web=99999999999999999999']) {
      expect(() => parseScale([v])).toThrow(/at most 1000 replicas/);
    }
    expect(parseScale(['web=1000'])).toEqual({ web: 1000 });
  });
});

describe('stack depth', () => {
  it('2,000 nested block mappings and 5,000 nested flow lists are refused', async () => {
    await withProject(async (p) => {
      await fails(p, R.deepMappings(), /nests mappings and sequences deeper than 100 levels/);
      await fails(p, R.deepFlow(), /deeper than 100 levels/);
    });
  });

  it('${A:-${A:-...}} nested 10,000 deep is refused', async () => {
    await withProject(async (p) => {
      await fails(p, R.nestedInterpolation(), /compose\.yaml:3:5 services\.web\.image: \$\{\.\.\.\} expressions nest deeper than 50 levels/);
    });
  });

  it('an extends chain of 10,000 services is refused at the chain limit', async () => {
    await withProject(async (p) => {
      await fails(p, R.extendsChain(), /services\.s100\.extends: extends chain longer than 100 services \(from compose\.yaml#s0\)/);
    });
  }, 60_000);

  it('10,000 services in one depends_on cycle: the cycle, shortened', async () => {
    await withProject(async (p) => {
      const msg = await fails(p, R.dependsOnChain(10_000, true), /dependency cycle between services: s0 -> s9999 -> .* \(9991 more\) -> /);
      expect(msg.length).toBeLessThan(400);
    });
  }, 60_000);
});

describe('files that are not regular files', () => {
  const mkfifo = (f: string): string => {
    execFileSync('mkfifo', [f]);
    return f;
  };

  it.each([
    ['-f', (p: TempProject) => p.load({ files: ['/dev/zero'] }), /compose file \/dev\/zero is a character device/],
    ['COMPOSE_FILE', (p: TempProject) => p.load({ env: { COMPOSE_FILE: '/dev/zero' } }), /compose file \/dev\/zero is a character device/],
    ['--env-file', (p: TempProject) => (p.write('compose.yaml', web), p.load({ envFiles: ['/dev/zero'] })), /env file \/dev\/zero is a character device/],
    ['env_file', (p: TempProject) => (p.write('compose.yaml', `${web}    env_file: /dev/zero\n`), p.load()), /env file \/dev\/zero is a character device/],
    ['include', (p: TempProject) => (p.write('compose.yaml', `include: [/dev/zero]\n${web}`), p.load()), /compose file \/dev\/zero is a character device/],
    [
      'extends.file',
      (p: TempProject) => (p.write('compose.yaml', `${web}    extends: {file: /dev/zero, service: x}\n`), p.load()),
      /compose file \/dev\/zero is a character device/,
    ],
  ])('/dev/zero as %s is refused', async (_, load, pattern) => {
    await withProject(async (p) => {
      const e = await rejection(load(p));
      expect(e.message).toMatch(pattern);
    });
  });

  it.each([
    ['-f', (p: TempProject) => p.load({ files: [mkfifo(path.join(p.dir, 'x.yaml'))] }), /compose file .*x\.yaml is a named pipe/],
    [
      '--env-file',
      (p: TempProject) => (p.write('compose.yaml', web), p.load({ envFiles: [mkfifo(path.join(p.dir, 'my.env'))] })),
      /env file .*my\.env is a named pipe/,
    ],
    ['.env', (p: TempProject) => (p.write('compose.yaml', web), mkfifo(path.join(p.dir, '.env')), p.load()), /env file .*\.env is a named pipe/],
    [
      'env_file',
      (p: TempProject) => (p.write('compose.yaml', `${web}    env_file: ./e.env\n`), mkfifo(path.join(p.dir, 'e.env')), p.load()),
      /env file .*e\.env is a named pipe/,
    ],
    [
      'include',
      (p: TempProject) => (p.write('compose.yaml', `include: [./i.yaml]\n${web}`), mkfifo(path.join(p.dir, 'i.yaml')), p.load()),
      /compose file .*i\.yaml is a named pipe/,
    ],
    [
      'extends.file',
      (p: TempProject) => (p.write('compose.yaml', `${web}    extends: {file: ./b.yaml, service: x}\n`), mkfifo(path.join(p.dir, 'b.yaml')), p.load()),
      /compose file .*b\.yaml is a named pipe/,
    ],
    [
      'a discovered compose.override.yaml',
      (p: TempProject) => (p.write('compose.yaml', web), mkfifo(path.join(p.dir, 'compose.override.yaml')), p.load()),
      /compose file .*compose\.override\.yaml is a named pipe/,
    ],
  ])('a FIFO as %s is refused at once', async (_, load, pattern) => {
    await withProject(async (p) => {
      const e = await rejection(load(p));
      expect(e.message).toMatch(pattern);
    });
  });

  it('a file larger than the limit is refused, saying the limit', async () => {
    await withProject(async (p) => {
      await fails(p, `${web}x-pad: "${'a'.repeat(LIMITS.fileBytes)}"\n`, /larger than 8 MiB, the most tscompose reads from one file/);
    });
  });

  it('a symbolic link to a regular file is read', async () => {
    await withProject(async (p) => {
      p.write('real.yaml', web);
      execFileSync('ln', ['-s', 'real.yaml', path.join(p.dir, 'compose.yaml')]);
      expect(Object.keys((await p.load()).services)).toEqual(['web']);
    });
  });
});

describe('COMPOSE_FILE edge cases', () => {
  it('a value naming no file is a clear error', async () => {
    await withProject(async (p) => {
      for (const v of [':::', ' : ']) {
        const e = await rejection(p.load({ env: { COMPOSE_FILE: v } }));
        expect(e.message).toMatch(/COMPOSE_FILE=.* names no compose file/);
      }
    });
  });

  it('an empty COMPOSE_PATH_SEPARATOR means the default one', async () => {
    await withProject(async (p) => {
      p.write('a.yaml', web);
      p.write('b.yaml', 'services:\n  db:\n    image: busybox\n');
      const proj = await p.load({ env: { COMPOSE_FILE: 'a.yaml:b.yaml', COMPOSE_PATH_SEPARATOR: '' } });
      expect(Object.keys(proj.services)).toEqual(['db', 'web']);
    });
  });
});

describe('accepted but invalid', () => {
  it.each(['top', 'services', 'service', 'environment', 'labels', 'extends', 'x-key'] as const)(
    '__proto__ as a key (%s) is refused where written',
    async (where) => {
      await withProject(async (p) => {
        await fails(p, R.protoKey(where), /compose\.yaml:\d+:\d+: .*__proto__: the key __proto__ is not accepted/);
      });
    },
  );

  it('oom_score_adj outside -1000..1000 is refused, as a number or a string', async () => {
    await withProject(async (p) => {
      await fails(p, `${web}    oom_score_adj: 5000\n`, /services\.web\.oom_score_adj/);
      await fails(p, `${web}    oom_score_adj: "\${ADJ}"\n`, /services\.web\.oom_score_adj: 5000 is outside the range of oom_score_adj, -1000 to 1000/, {
        env: { ADJ: '5000' },
      });
    });
  });

  it('an environment variable or label with an empty name is refused', async () => {
    await withProject(async (p) => {
      await fails(p, `${web}    environment:\n      "": x\n`, /services\.web\.environment.*empty name/);
      await fails(p, `${web}    environment: ["=x"]\n`, /services\.web\.environment\[0\]: an entry must start with a name/);
      await fails(p, `${web}    labels: {"": x}\n`, /services\.web\.labels.*empty name/);
    });
  });

  it('raw NUL and C0 characters are refused at their line and column, in compose files and env files', async () => {
    await withProject(async (p) => {
      await fails(p, `${web}    command: "a\u0000b"\n`, /compose\.yaml:4:16: control character U\+0000/);
      await fails(p, `${web}    hostname: a\u0001b\n`, /compose\.yaml:4:16: control character U\+0001/);
      await fails(p, `${web}    command: "a\\0b"\n`, /compose\.yaml:4:14: services\.web\.command: a NUL character in a value/);
      p.write('.env', 'A=1\nB=x\u001by\n');
      await fails(p, web, /\.env:2:4: control character U\+001B/);
    });
  });
});
