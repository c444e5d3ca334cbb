/**
 * A project known by its record (`-p NAME down` without a compose file): each service comes
 * back from the definition its container recorded and the depends_on label of its run
 * configuration, as Compose rebuilds one from its containers' labels.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadProject, restoreService } from '../../../src/compose/index.js';
import { definitionOf } from '../../../src/apply/containers.js';
import { dependsOnLabel, parseDependsOnLabel } from '../../../src/apply/run-config.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function project(yaml: string) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsc-recorded-'));
  dirs.push(dir);
  writeFileSync(path.join(dir, 'compose.yaml'), yaml);
  return loadProject({ workingDir: dir, env: {} });
}

describe('a service restored from its record', () => {
  it('is the loaded service but for the fields its config hash leaves out; dependencies come from the label, none required', async () => {
    const p = await project(`
services:
  db:
    image: busybox:latest
    healthcheck: {test: ["CMD", "true"]}
  app:
    image: busybox:latest
    command: sleep 1
    ports: ["127.0.0.1:8080:80"]
    depends_on:
      db: {condition: service_healthy, restart: false}
    profiles: [x]
`);
    const app = p.disabledServices.app ?? p.services.app!;
    const label = dependsOnLabel(app.depends_on);
    expect(label).toBe('db:service_healthy:false');
    const restored = restoreService('app', definitionOf(app).definition, parseDependsOnLabel(label));
    expect(restored).toEqual({
      ...app,
      depends_on: { db: { condition: 'service_healthy', restart: false, required: false } },
      profiles: [],
      extensions: {},
    });
    // what the record keeps hashes the same as what was recorded
    expect(definitionOf(restored).hash).toBe(definitionOf(app).hash);
  });

  it('keeps what a record of an older version has, and leaves the rest empty', () => {
    const s = restoreService('old', { image: 'busybox:latest', command: ['true'], environment: { A: '1' } }, {});
    expect(s).toMatchObject({ name: 'old', image: 'busybox:latest', command: ['true'], environment: { A: '1' }, ports: [], depends_on: {} });
    // a definition that does not fit the model at all: only the name is known
    const odd = restoreService('odd', 'not an object', {});
    expect(odd).toMatchObject({ name: 'odd', volumes: [] });
    expect(odd.image).toBeUndefined();
  });

  it('reads a label in the form Compose writes, and an unknown condition as service_started', () => {
    expect(parseDependsOnLabel('a:service_completed_successfully:true,b:whatever,c')).toEqual({
      a: { condition: 'service_completed_successfully', restart: true, required: false },
      b: { condition: 'service_started', restart: true, required: false },
      c: { condition: 'service_started', restart: true, required: false },
    });
    expect(parseDependsOnLabel('')).toEqual({});
    expect(parseDependsOnLabel(undefined)).toEqual({});
  });
});
