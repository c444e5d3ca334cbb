/**
 * The layout is the architecture: each folder of src/ may import only the folders below it.
 * cli → apply → planner/engine/supervisor/network/images/state/compose → sys → common.
 * The in-container init stage imports only sys, the engine's protocol/spec and common.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const SRC = path.resolve(__dirname, '../../src');

const ALLOWED: Record<string, string[]> = {
  common: [],
  sys: ['common'],
  compose: ['common'],
  planner: ['common'],
  state: ['common', 'sys'],
  images: ['common', 'sys'],
  network: ['common', 'sys'],
  engine: ['common', 'sys'],
  supervisor: ['common', 'sys', 'engine', 'network'],
  apply: ['common', 'sys', 'compose', 'planner', 'state', 'images', 'network', 'engine', 'supervisor'],
  cli: ['common', 'sys', 'compose', 'planner', 'state', 'images', 'network', 'engine', 'supervisor', 'apply'],
};

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
        const ok = rel.startsWith('sys/') || rel.startsWith('common/') || rel.startsWith('engine/init/') || ['engine/protocol.js', 'engine/spec.js'].includes(rel);
        if (!ok) bad.push(`${path.relative(SRC, file)} imports ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
