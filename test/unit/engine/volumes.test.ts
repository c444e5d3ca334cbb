import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureVolume, inspectVolume, listVolumes, removeVolume } from '../../../src/engine/volumes.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'tsc-vol-unit-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('named volumes', () => {
  it('creates, lists, keeps and removes volumes under <root>/volumes/<name>/_data', () => {
    const v = ensureVolume('p_db', { root, labels: { 'com.docker.compose.project': 'p' } });
    expect(v).toMatchObject({ name: 'p_db', mountpoint: path.join(root, 'volumes/p_db/_data'), created: true });
    writeFileSync(path.join(v.mountpoint, 'x'), '1');
    expect(ensureVolume('p_db', { root }).created).toBe(false);
    ensureVolume('p_cache', { root });
    expect(listVolumes(root).map((x) => x.name)).toEqual(['p_cache', 'p_db']);
    expect(inspectVolume('p_db', root)?.labels).toEqual({ 'com.docker.compose.project': 'p' });
    expect(removeVolume('p_db', root)).toBe(true);
    expect(existsSync(path.join(root, 'volumes/p_db'))).toBe(false);
    expect(removeVolume('p_db', root)).toBe(false);
  });
  it('rejects names that would leave the volumes folder', () => {
    expect(() => ensureVolume('../etc', { root })).toThrow(/invalid volume name/);
  });
});
