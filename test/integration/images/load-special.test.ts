/** `image load -i` refuses what is not a regular file at once: a FIFO would block the open forever, /dev/zero never ends. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { runProcess } from '../../fuzz/classify.js';
import { CLI } from '../../support/cli.js';

describe('image load of special files', () => {
  it('a FIFO and /dev/zero as -i are clean errors, without blocking', async () => {
    const base = mkdtempSync(path.join(os.tmpdir(), 'tsc-loadfifo-'));
    try {
      const fifo = path.join(base, 'fifo.tar');
      execFileSync('mkfifo', [fifo]);
      for (const f of [fifo, '/dev/zero']) {
        const r = await runProcess(CLI, ['image', 'load', '-i', f], {
          cwd: base,
          env: { PATH: process.env.PATH, TSCOMPOSE_ROOT: path.join(base, 'root') },
          timeoutMs: 20_000,
        });
        expect(r.outcome, r.stderr).toBe('clean error');
        expect(r.stderr).toMatch(/is not a regular file/);
      }
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});
