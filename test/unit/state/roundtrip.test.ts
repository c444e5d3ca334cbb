/**
 * The path a real `up` takes between runs: plan → record each created container in state.json →
 * read the record back → observed containers → plan again. The second plan must be empty, so
 * nothing about storing the definition (JSON round trip, key order, undefined members) may
 * change its hash.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { plan, runPlan, type DesiredProject, type ObservedContainer } from '../../../src/planner/index.js';
import { emptyProjectState, readProjectState, writeProjectState } from '../../../src/state/index.js';

let root: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsc-roundtrip-'));
});

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

const IMAGE_ID = `sha256:${'c'.repeat(64)}`;

function desired(): DesiredProject {
  const web = {
    name: 'web',
    image: 'busybox:latest',
    command: ['httpd', '-f'],
    entrypoint: null,
    environment: { B: '2', A: '1', UNSET: null },
    ports: [{ target: 80, published: '8080', protocol: 'tcp', host_ip: undefined }],
    labels: { 'com.example.tier': 'front' },
    deploy: { replicas: 2, resources: { limits: { memory: 67108864, pids: 64 } } },
    depends_on: { db: { condition: 'service_healthy', restart: true, required: true } },
    stop_grace_period: 10000,
    cpus: 0.5,
  };
  const db = { name: 'db', image: 'busybox:latest', command: ['sleep', 'infinity'], environment: {}, healthcheck: { test: ['CMD', 'true'], interval: 1000 } };
  return {
    project: 'tscrt',
    services: [
      {
        name: 'web',
        replicas: 2,
        dependsOn: { db: { condition: 'service_healthy', restart: true, required: true } },
        definition: web,
        image: 'busybox:latest',
        imageDigest: IMAGE_ID,
      },
      { name: 'db', replicas: 1, dependsOn: {}, definition: db, image: 'busybox:latest', imageDigest: IMAGE_ID },
    ],
  };
}

describe('plan → state record → plan', () => {
  it('a project recorded by one run is up to date for the next', async () => {
    const d = desired();
    const first = plan(d, []);
    expect(first.changes).toHaveLength(3);
    const record = emptyProjectState('tscrt');
    const result = await runPlan(first, async (a) => {
      const svc = d.services.find((s) => s.name === a.service)!;
      record.containers[a.container] = {
        id: a.container,
        name: a.container,
        service: a.service,
        number: a.number!,
        oneOff: false,
        configHash: a.configHash!,
        definition: svc.definition,
        image: svc.image,
        imageId: svc.imageDigest!,
        created: new Date().toISOString(),
        phase: 'created',
      };
      await Promise.resolve();
    });
    expect(result.ok).toBe(true);
    await writeProjectState(root, record);

    const state = await readProjectState(root, 'tscrt');
    const observed: ObservedContainer[] = Object.values(state!.containers).map((r) => ({
      id: r.id,
      name: r.name,
      service: r.service,
      number: r.number,
      oneOff: r.oneOff,
      configHash: r.configHash,
      definition: r.definition,
      imageDigest: r.imageId,
      state: 'running',
    }));
    const second = plan(desired(), observed);
    expect(second.toString()).toBe(
      [
        'plan for project "tscrt": nothing to do (3 containers up to date)',
        '  noop          tscrt-db-1 (db): running, up to date',
        '  noop          tscrt-web-1 (web): running, up to date [after noop:tscrt-db-1]',
        '  noop          tscrt-web-2 (web): running, up to date [after noop:tscrt-db-1]',
      ].join('\n'),
    );

    // one changed variable: only that service, named precisely
    const changed = desired();
    (changed.services[1]!.definition as { environment: Record<string, string> }).environment = { POSTGRES_DB: 'app' };
    const third = plan(changed, observed);
    expect(third.changes.map((a) => `${a.kind} ${a.container}: ${a.reason}`)).toEqual([
      'stop tscrt-web-1: dependency db is recreated (depends_on.restart)',
      'stop tscrt-web-2: dependency db is recreated (depends_on.restart)',
      'recreate tscrt-db-1: environment.POSTGRES_DB changed',
      'start tscrt-web-1: restart after db is recreated',
      'start tscrt-web-2: restart after db is recreated',
    ]);
  });
});
