/**
 * The layout is the architecture: each folder of src/ may import only the folders below it
 * (eslint.config.js holds the table and checks static imports as you type; this test also
 * catches dynamic import() and folders missing from the table).
 * cli → apply → planner/engine/supervisor/network/images/state/compose → sys → common.
 * The in-container init stage imports only sys, the engine's protocol/spec and common.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
// @ts-expect-error -- a plain JavaScript config file without types
import { LAYERS } from '../../eslint.config.js';

const SRC = path.resolve(__dirname, '../../src');

// the one table of which folder may import which: the linter's (eslint.config.js)
const ALLOWED: Record<string, string[]> = LAYERS;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)'(\.[^']+)'/g)) out.push(m[1]!);
  return out;
}

const top = (p: string): string => path.relative(SRC, p).split(path.sep)[0]!;

describe('architecture', () => {
  it('every folder of src/ imports only the folders below it', () => {
    const bad: string[] = [];
    for (const file of files(SRC)) {
      const from = top(file);
      if (!(from in ALLOWED)) {
        bad.push(`${path.relative(SRC, file)}: folder "${from}" has no place in the layout`);
        continue;
      }
      for (const spec of imports(file)) {
        const to = top(path.resolve(path.dirname(file), spec));
        if (to !== from && !ALLOWED[from]!.includes(to)) bad.push(`${path.relative(SRC, file)} imports ${spec} (${from} → ${to})`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('the in-container init stage imports only sys, the engine protocol and common', () => {
    const bad: string[] = [];
    const initDir = path.join(SRC, 'engine', 'init');
    for (const file of files(initDir)) {
      for (const spec of imports(file)) {
        const target = path.resolve(path.dirname(file), spec);
        const rel = path.relative(SRC, target);
        const ok =
          rel.startsWith('sys/') || rel.startsWith('common/') || rel.startsWith('engine/init/') || ['engine/protocol.js', 'engine/spec.js'].includes(rel);
        if (!ok) bad.push(`${path.relative(SRC, file)} imports ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
