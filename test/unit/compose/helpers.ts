import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { loadProject, type LoadOptions } from '../../../src/compose/index.js';

/** A temporary project directory with files; removed by cleanup(). */
export class TempProject {
  readonly dir: string;
  constructor() {
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'tsc-spec-'));
  }
  write(rel: string, text: string): string {
    const f = path.join(this.dir, rel);
    mkdirSync(path.dirname(f), { recursive: true });
    writeFileSync(f, text);
    return f;
  }
  load(opts: Partial<LoadOptions> = {}) {
    return loadProject({ workingDir: this.dir, env: {}, ...opts });
  }
  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Runs fn with a fresh TempProject and always removes it. */
export async function withProject<T>(fn: (p: TempProject) => Promise<T>): Promise<T> {
  const p = new TempProject();
  try {
    return await fn(p);
  } finally {
    p.cleanup();
  }
}

/** The TscError a promise rejects with (fails the test if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<{ code: string; message: string; hint?: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code: string; message: string; hint?: string };
  }
  throw new Error('expected the promise to reject');
}
