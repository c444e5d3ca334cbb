/**
 * The supervisor folder's own layout: the client side (what the CLI and apply load through
 * index.ts) never reaches the daemon side, and no module of the folder imports itself back.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const DIR = path.resolve(__dirname, '../../../src/supervisor');

/** Files only the supervisor process loads (see src/supervisor/README.md). */
const DAEMON = [
  'main.ts',
  'server.ts',
  'supervisor.ts',
  'core.ts',
  'managed.ts',
  'store.ts',
  'adoption.ts',
  'run-loop.ts',
  'health-runner.ts',
  'health.ts',
  'wait.ts',
  'log-pump.ts',
  'hook-runner.ts',
  'queries.ts',
  'bus.ts',
  'runtime.ts',
  'engine-runtime.ts',
  'network-hooks.ts',
  'attach.ts',
  'attached-run.ts',
];

function localImports(file: string): string[] {
  const text = readFileSync(path.join(DIR, file), 'utf8');
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*)'\.\/([^']+)\.js'/g)].map((m) => `${m[1]}.ts`);
}

function closure(entry: string): Set<string> {
  const seen = new Set<string>();
  const walk = (f: string): void => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const i of localImports(f)) walk(i);
  };
  walk(entry);
  return seen;
}

/** Every module the supervisor process loads from src/, and the packages they import. */
function processClosure(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const walk = (f: string): void => {
    if (files.has(f)) return;
    files.add(f);
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s+(?!type\b)[^'"]*?from\s+'([^']+)'|import\s*\(\s*'([^']+)'/g)) {
      const spec = (m[1] ?? m[2])!;
      if (spec.startsWith('.')) walk(path.resolve(path.dirname(f), spec.replace(/\.js$/, '.ts')));
      else if (!spec.startsWith('node:')) packages.add(spec.split('/')[0]!);
    }
  };
  walk(entry);
  return { files, packages };
}

describe('supervisor folder structure', () => {
  it('the supervisor process loads neither zod nor yaml (it is long-lived, one per project)', () => {
    const { packages } = processClosure(path.join(DIR, 'main.ts'));
    expect([...packages].filter((p) => p === 'zod' || p === 'yaml')).toEqual([]);
  });

  const files = readdirSync(DIR).filter((f) => f.endsWith('.ts'));

  it('every file is listed as daemon or client side', () => {
    for (const f of DAEMON) expect(files).toContain(f);
  });

  it.each(['index.ts', 'client.ts', 'records.ts'])('the client side (%s) imports no daemon module', (entry) => {
    expect([...closure(entry)].filter((f) => DAEMON.includes(f))).toEqual([]);
  });

  it('no import circle (type imports included)', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (f: string, stack: string[]): void => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...stack.slice(stack.indexOf(f)), f].join(' → '));
        return;
      }
      state.set(f, 'open');
      for (const i of localImports(f)) visit(i, [...stack, f]);
      state.set(f, 'done');
    };
    for (const f of files) visit(f, []);
    expect(cycles).toEqual([]);
  });
});
