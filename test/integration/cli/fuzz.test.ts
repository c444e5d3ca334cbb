/**
 * Fuzzing the real CLI: FUZZ_CLI_CASES generated projects and command lines (default 24) from
 * FUZZ_SEED (default 14), each run as a user runs tscompose (bin/tscompose.js), with its own
 * state root, killed past 20 s or 500 MB. Only a clean error (exit 1, or 2 for usage, with an
 * "error:" paragraph) or success passes; the seed, the case number and the case are printed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { GOOD, runProcess, tally, materialize, type Outcome } from '../../fuzz/classify.js';
import { composeCase } from '../../fuzz/compose-gen.js';
import { caseSeed, Rng } from '../../fuzz/rng.js';
import { CLI } from '../../support/cli.js';

const seed = Number(process.env.FUZZ_SEED ?? 14);
const cases = Number(process.env.FUZZ_CLI_CASES ?? 24);

describe('CLI fuzzing', () => {
  it(`${cases} command lines from seed ${seed}: exit codes and output of clean errors only`, async () => {
    const outcomes: Outcome[] = [];
    const bad: string[] = [];
    for (let i = 0; i < cases; i++) {
      const c = composeCase(new Rng(caseSeed(seed, i)));
      const base = mkdtempSync(path.join(os.tmpdir(), 'tsc-fuzzcli-'));
      const dir = path.join(base, 'proj');
      try {
        materialize(c.files, dir);
        const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: base, TSCOMPOSE_ROOT: path.join(base, 'root'), ...c.env };
        const r = await runProcess(CLI, c.args, { cwd: dir, env, timeoutMs: 20_000 });
        outcomes.push(r.outcome);
        if (!GOOD.includes(r.outcome)) {
          bad.push(
            `seed ${seed} case ${i}: ${r.outcome}: ${r.detail}\n  args: ${JSON.stringify(c.args)} env: ${JSON.stringify(c.env)}\n  stderr: ${r.stderr.slice(0, 2000)}\n  files: ${JSON.stringify(c.files).slice(0, 4000)}`,
          );
        }
      } finally {
        rmSync(base, { recursive: true, force: true });
      }
    }
    console.log(`CLI fuzz: seed ${seed}, ${cases} cases: ${JSON.stringify(tally(outcomes))}`);
    expect(bad, bad.join('\n\n')).toEqual([]);
  }, 900_000);
});
