import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureVolume, inspectVolume, listVolumes, populateVolume, removeVolume } from '../../../src/engine/volumes.js';

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

  it('populates a new volume once, atomically; a crash mid-copy is redone, nocopy settles it empty', () => {
    const v = ensureVolume('p_new', { root });
    const fill =
      (content: string) =>
      (dir: string): boolean => {
        writeFileSync(path.join(dir, 'f'), content);
        return true;
      };
    // a crash in the middle of the copy: the partial copy is in _data.populating, _data is empty
    expect(() =>
      populateVolume('p_new', root, (dir) => {
        writeFileSync(path.join(dir, 'half'), '');
        throw new Error('killed');
      }),
    ).toThrow(/killed/);
    expect(readdirSync(v.mountpoint)).toEqual([]);
    // the next try starts over and completes
    expect(populateVolume('p_new', root, fill('one'))).toBe(true);
    expect(readdirSync(v.mountpoint)).toEqual(['f']);
    expect(readdirSync(path.dirname(v.mountpoint)).sort()).toEqual(['_data', 'volume.json']);
    // populated once: later mounts never copy again, even into an emptied volume
    rmSync(path.join(v.mountpoint, 'f'));
    expect(populateVolume('p_new', root, fill('two'))).toBe(false);
    expect(readdirSync(v.mountpoint)).toEqual([]);

    // a rename that happened but whose marker removal was cut short: only the marker goes
    const w = ensureVolume('p_cut', { root });
    rmSync(w.mountpoint, { recursive: true });
    mkdirSync(w.mountpoint);
    writeFileSync(path.join(w.mountpoint, 'done'), 'x');
    expect(populateVolume('p_cut', root, fill('again'))).toBe(false);
    expect(readFileSync(path.join(w.mountpoint, 'done'), 'utf8')).toBe('x');

    // nocopy: settled empty, a later mount without nocopy does not fill it
    ensureVolume('p_nocopy', { root });
    expect(populateVolume('p_nocopy', root, undefined)).toBe(false);
    expect(populateVolume('p_nocopy', root, fill('late'))).toBe(false);
    expect(readdirSync(path.join(root, 'volumes/p_nocopy/_data'))).toEqual([]);
  });
});
