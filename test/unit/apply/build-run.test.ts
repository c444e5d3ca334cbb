/** buildServices: two builds at a time, events forwarded, the first failure aborts the rest and is thrown. */
import { describe, expect, it, vi } from 'vitest';

import type { BuildOptions, BuildRequest } from '../../../src/build/index.js';
import { TscError } from '../../../src/common/errors.js';

const calls: { req: BuildRequest; opts: BuildOptions }[] = [];
let running = 0;
let peak = 0;

vi.mock('../../../src/build/index.js', () => ({
  buildImage: async (req: BuildRequest, opts: BuildOptions) => {
    calls.push({ req, opts });
    running++;
    peak = Math.max(peak, running);
    try {
      opts.onEvent?.({ kind: 'step-start', step: 1, total: 1, stage: '', text: 'RUN true', line: 2 });
      await new Promise<void>((resolve, reject) => {
        const t = setTimeout(resolve, 30);
        opts.signal?.addEventListener('abort', () => {
          clearTimeout(t);
          reject(new Error('aborted'));
        });
      });
      if (req.label === 'bad') throw new TscError('SPEC_INVALID', 'Dockerfile:2: RUN false: exit code 1');
      opts.onEvent?.({ kind: 'step-done', step: 1, cached: false, ms: 30 });
      return { image: { id: `sha256:${req.label}` }, ran: 1, cached: 0 };
    } finally {
      running--;
    }
  },
}));

const { buildServices } = await import('../../../src/apply/build.js');
const { withProject } = await import('../compose/helpers.js');

function recorder() {
  const log: string[] = [];
  return {
    log,
    reporter: {
      begin: (s: string, image: string) => log.push(`begin ${s} ${image}`),
      event: (s: string, e: { kind: string }) => log.push(`event ${s} ${e.kind}`),
      done: (s: string) => log.push(`done ${s}`),
      fail: (s: string) => log.push(`fail ${s}`),
      warn: (t: string) => log.push(`warn ${t}`),
    },
  };
}

async function services(names: string[]) {
  return withProject(async (p) => {
    p.write('compose.yaml', 'services:\n' + names.map((n) => `  ${n}:\n    build: .\n`).join(''));
    const proj = await p.load({ projectName: 'proj' });
    return names.map((n) => proj.services[n]!);
  });
}

describe('buildServices', () => {
  it('builds every service, at most two at a time, forwarding events', async () => {
    calls.length = 0;
    peak = 0;
    const { log, reporter } = recorder();
    const ctx = { root: '/state', name: 'proj', images: {} as never };
    const results = await buildServices(ctx, await services(['a', 'b', 'c', 'd']), { pull: true }, reporter);
    expect(results.map((r) => r.image.id).sort()).toEqual(['sha256:a', 'sha256:b', 'sha256:c', 'sha256:d']);
    expect(peak).toBe(2);
    expect(calls.map((c) => c.req.tags[0])).toEqual(['proj-a', 'proj-b', 'proj-c', 'proj-d']);
    expect(calls.every((c) => c.req.pull && c.opts.root === '/state')).toBe(true);
    expect(log.filter((l) => l.startsWith('event a'))).toEqual(['event a step-start', 'event a step-done']);
    expect(log.filter((l) => l.startsWith('done'))).toHaveLength(4);
  });

  it('stops at the first failure: running builds are aborted, no new one starts, the builder error is thrown as is', async () => {
    calls.length = 0;
    const { log, reporter } = recorder();
    const ctx = { root: '/state', name: 'proj', images: {} as never };
    const err = await buildServices(ctx, await services(['bad', 'b', 'c', 'd']), {}, reporter).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TscError);
    expect((err as TscError).message).toBe('Dockerfile:2: RUN false: exit code 1');
    expect(calls.map((c) => c.req.label)).toEqual(['bad', 'b']);
    expect(log).toContain('fail bad');
    expect(log).not.toContain('begin c proj-c');
  });

  it('refuses before building anything when one service asks for what the builder cannot do', async () => {
    calls.length = 0;
    const list = await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  a:\n    build: .\n  b:\n    build: {context: ., ssh: [default]}\n');
      const proj = await p.load();
      return [proj.services.a!, proj.services.b!];
    });
    const { reporter } = recorder();
    await expect(buildServices({ root: '/s', name: 'p', images: {} as never }, list, {}, reporter)).rejects.toThrow(/services\.b\.build: ssh/);
    expect(calls).toEqual([]);
  });
});
