/** The image store's modules form no import circle (each has one job; store.ts wires them). */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const DIR = path.resolve(__dirname, '../../../src/images');

describe('src/images layout', () => {
  it('has no import circle between its modules', () => {
    const graph = new Map<string, string[]>();
    for (const f of readdirSync(DIR).filter((n) => n.endsWith('.ts'))) {
      const text = readFileSync(path.join(DIR, f), 'utf8');
      graph.set(
        f,
        [...text.matchAll(/from\s+'\.\/([^']+)\.js'/g)].map((m) => `${m[1]}.ts`),
      );
    }
    const circles: string[] = [];
    const done = new Set<string>();
    const walk = (f: string, stack: string[]): void => {
      if (stack.includes(f)) {
        circles.push([...stack.slice(stack.indexOf(f)), f].join(' → '));
        return;
      }
      if (done.has(f)) return;
      for (const g of graph.get(f) ?? []) walk(g, [...stack, f]);
      done.add(f);
    };
    for (const f of [...graph.keys()].sort()) walk(f, []);
    expect(circles).toEqual([]);
    expect(graph.size).toBeGreaterThan(10);
  });
});
