/**
 * Fuzzing the Compose loader in-process: FUZZ_CASES generated projects and command lines
 * (default 200) from FUZZ_SEED (default 14); any outcome but a clean error or an accepted file
 * fails, printing the seed, the case number and the case. scripts/fuzz.sh runs longer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { GOOD, tally, type Outcome } from '../../fuzz/classify.js';
import { composeCase } from '../../fuzz/compose-gen.js';
import { runComposeInProcess } from '../../fuzz/compose-run.js';
import { caseSeed, Rng } from '../../fuzz/rng.js';

const seed = Number(process.env.FUZZ_SEED ?? 14);
const cases = Number(process.env.FUZZ_CASES ?? 200);

describe('compose loader fuzzing', () => {
  it(`${cases} cases from seed ${seed}: only clean errors and accepted files`, async () => {
    const outcomes: Outcome[] = [];
    const bad: string[] = [];
    for (let i = 0; i < cases; i++) {
      // let the test runner's messages through between cases
      await new Promise((r) => setImmediate(r));
      const c = composeCase(new Rng(caseSeed(seed, i)));
      const dir = mkdtempSync(path.join(os.tmpdir(), 'tsc-fuzz-'));
      const started = Date.now();
      try {
        let r = await runComposeInProcess(c, dir);
        if (Date.now() - started > 10_000) r = { outcome: 'timeout', detail: `${Date.now() - started} ms` };
        if (process.memoryUsage().rss > 500 * 1024 * 1024) r = { outcome: 'memory over 500 MB', detail: `${process.memoryUsage().rss} bytes` };
        outcomes.push(r.outcome);
        if (!GOOD.includes(r.outcome)) {
          bad.push(
            `seed ${seed} case ${i}: ${r.outcome}: ${r.detail}\n  args: ${JSON.stringify(c.args)} env: ${JSON.stringify(c.env)}\n  files: ${JSON.stringify(c.files).slice(0, 4000)}`,
          );
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    console.log(`compose fuzz: seed ${seed}, ${cases} cases: ${JSON.stringify(tally(outcomes))}`);
    expect(bad, bad.join('\n\n')).toEqual([]);
  }, 600_000);
});
