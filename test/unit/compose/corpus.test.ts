/**
 * Conformance corpus: real-world compose files (docker/awesome-compose) and compose-go's own
 * loader testdata, loaded with our loader and compared with the model Compose gives for them
 * (test/fixtures/corpus/README.md says where each comes from and how the expected files were
 * decided). An expected file holds `config` (the `config --format json` view, with the corpus
 * folder written as <corpus>) or `error` (code and message), and `notes` on what matters in it.
 *
 * CORPUS_UPDATE=1 rewrites the `config`/`error` of the expected files (keeping their notes):
 * review every diff against Compose's behaviour before committing one.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

import { loadProject, renderConfig, type LoadOptions } from '../../../src/compose/index.js';

const corpus = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/corpus');
const update = process.env.CORPUS_UPDATE === '1';

interface Case {
  id: string;
  /** directory the command runs in (relative to the corpus) */
  dir: string;
  files: string[];
  env?: Record<string, string>;
  services?: string[];
}

const cases: Case[] = [];
for (const d of readdirSync(path.join(corpus, 'awesome-compose')).sort()) {
  const f = ['compose.yaml', 'compose.yml'].find((n) => existsSync(path.join(corpus, 'awesome-compose', d, n)));
  if (f) cases.push({ id: `awesome-compose/${d}`, dir: `awesome-compose/${d}`, files: [f] });
}
const cg = 'compose-go/testdata';
cases.push(
  { id: 'compose-go/compose-test-extends', dir: cg, files: ['compose-test-extends.yaml'] },
  { id: 'compose-go/compose-test-extends-with-context-url', dir: cg, files: ['compose-test-extends-with-context-url.yaml'] },
  { id: 'compose-go/compose-test-with-version', dir: cg, files: ['compose-test-with-version.yaml'], env: { QUX: 'qux_from_environment' } },
  { id: 'compose-go/compose-include', dir: cg, files: ['compose-include.yaml'] },
  { id: 'compose-go/include', dir: `${cg}/include`, files: ['compose.yaml'] },
  { id: 'compose-go/include-project-directory', dir: `${cg}/include`, files: ['project-directory.yaml'] },
  { id: 'compose-go/combined', dir: `${cg}/combined`, files: ['compose.yaml'] },
  { id: 'compose-go/extends-depends-on', dir: `${cg}/extends`, files: ['depends_on.yaml'] },
  { id: 'compose-go/extends-reset', dir: `${cg}/extends`, files: ['reset.yaml'] },
  { id: 'compose-go/extends-interpolated', dir: `${cg}/extends`, files: ['interpolated.yaml'] },
  { id: 'compose-go/extends-interpolated-source', dir: `${cg}/extends`, files: ['interpolated.yaml'], env: { SOURCE: './src' } },
  { id: 'compose-go/extends-ports', dir: `${cg}/extends`, files: ['ports.yaml'] },
  { id: 'compose-go/extends-nested', dir: `${cg}/extends`, files: ['nested.yaml'] },
  { id: 'compose-go/extends-withdir', dir: `${cg}/extends/withdir`, files: ['compose.yaml'] },
  { id: 'compose-go/extends-base', dir: `${cg}/extends`, files: ['base.yaml'] },
  { id: 'compose-go/depends-on-cycle', dir: cg, files: ['compose-depends-on-cycle.yaml'] },
  { id: 'compose-go/depends-on-self', dir: cg, files: ['compose-depends-on-self.yaml'] },
  { id: 'compose-go/include-cycle', dir: cg, files: ['compose-include-cycle.yaml'] },
  { id: 'compose-go/empty', dir: cg, files: ['empty.yaml'] },
);

/** The corpus folder as <corpus>, so expected files do not depend on where the checkout is. */
function portable<T>(v: T): T {
  return JSON.parse(JSON.stringify(v).split(corpus).join('<corpus>')) as T;
}

async function outcome(c: Case): Promise<{ config?: unknown; error?: { code: string; message: string } }> {
  // a fixed HOME: `~` in a path expands to it, whoever runs the tests
  const opts: LoadOptions = { workingDir: path.join(corpus, c.dir), files: c.files, env: { HOME: '/home/user', ...c.env }, services: c.services };
  try {
    return { config: portable(configViewOf(await loadProject(opts))) };
  } catch (e) {
    const err = e as { code?: string; message: string };
    if (!err.code) throw e;
    return { error: portable({ code: err.code, message: err.message }) };
  }
}

describe('conformance corpus (awesome-compose, compose-go testdata)', () => {
  it('has 30 to 60 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    expect(cases.length).toBeLessThanOrEqual(60);
  });

  it.each(cases.map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    const file = path.join(corpus, 'expected', `${c.id}.json`);
    const got = await outcome(c);
    if (update) {
      const old = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { notes?: string[] }) : {};
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, JSON.stringify({ notes: old.notes ?? [], ...got }, null, 2) + '\n');
    }
    const want = JSON.parse(readFileSync(file, 'utf8')) as { notes?: string[]; config?: unknown; error?: unknown };
    delete want.notes;
    expect(got).toEqual(want);
  });
});

/** What `config --format json` prints, as an object. */
function configViewOf(p: Awaited<ReturnType<typeof loadProject>>): Record<string, unknown> {
  return JSON.parse(renderConfig(p, 'json')) as Record<string, unknown>;
}
