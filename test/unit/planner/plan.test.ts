import { describe, expect, it } from 'vitest';
import { plan, planDown } from '../../../src/planner/index.js';
import { configHash } from '../../../src/planner/hash.js';
import { TscError } from '../../../src/common/errors.js';
import type { DesiredProject, ObservedContainer, PlanOptions } from '../../../src/planner/types.js';
import { container, dep, DIGEST_A, DIGEST_B, definition, service } from './fixtures.js';

const P = 'demo';

function project(...services: ReturnType<typeof service>[]): DesiredProject {
  return { project: P, services };
}

function kinds(p: ReturnType<typeof plan>): string[] {
  return p.actions.map((a) => `${a.kind} ${a.container}`);
}

function thrown(fn: () => unknown): TscError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TscError);
    return e as TscError;
  }
  throw new Error('expected an error');
}

/** db ← web ← proxy, plus an independent cache */
function stack() {
  const db = service('db');
  const cache = service('cache');
  const web = service('web', { dependsOn: { db: dep('service_healthy') } });
  const proxy = service('proxy', { dependsOn: { web: dep() } });
  return { db, cache, web, proxy, desired: project(web, proxy, db, cache) };
}

function upToDate(...services: ReturnType<typeof service>[]): ObservedContainer[] {
  return services.map((s) => container(P, s, 1));
}

describe('plan: first up', () => {
  it('creates every service, dependencies first, independent services without edges', () => {
    const { desired } = stack();
    const p = plan(desired, []);
    expect(p.toString()).toBe(
      [
        'plan for project "demo": 4 to create',
        '  create        demo-cache-1 (cache): new container',
        '  create        demo-db-1 (db): new container',
        '  create        demo-web-1 (web): new container [after create:demo-db-1]',
        '  create        demo-proxy-1 (proxy): new container [after create:demo-web-1]',
      ].join('\n'),
    );
    const web = p.action('create:demo-web-1')!;
    expect(web).toMatchObject({ kind: 'create', service: 'web', number: 1, start: true, configHash: configHash(stack().web.definition) });
    expect(p.action('create:demo-cache-1')!.after).toEqual([]);
  });

  it('numbers replicas from 1 and uses container_name when set', () => {
    const p = plan(project(service('web', { replicas: 3 }), service('db', { containerName: 'the-db' })), []);
    expect(kinds(p)).toEqual(['create the-db', 'create demo-web-1', 'create demo-web-2', 'create demo-web-3']);
    expect(p.actions.map((a) => a.number)).toEqual([1, 1, 2, 3]);
    expect(p.action('create:demo-web-2')!.reason).toBe('scale 0 → 3');
  });

  it('with --no-start creates without starting', () => {
    const p = plan(project(service('web')), [], { noStart: true });
    expect(p.actions[0]).toMatchObject({ kind: 'create', start: false });
  });
});

describe('plan: unchanged project', () => {
  it('has nothing to do', () => {
    const { db, cache, web, proxy, desired } = stack();
    const p = plan(desired, upToDate(db, cache, web, proxy));
    expect(p.isEmpty).toBe(true);
    expect(p.changes).toEqual([]);
    expect(p.toString()).toBe(
      [
        'plan for project "demo": nothing to do (4 containers up to date)',
        '  noop          demo-cache-1 (cache): running, up to date',
        '  noop          demo-db-1 (db): running, up to date',
        '  noop          demo-web-1 (web): running, up to date [after noop:demo-db-1]',
        '  noop          demo-proxy-1 (proxy): running, up to date [after noop:demo-web-1]',
      ].join('\n'),
    );
  });

  it('does not recreate when only the key order of the definition differs', () => {
    const web = service('web', { extra: { labels: { a: '1', b: '2' }, ports: [{ target: 80, published: '8080' }] } });
    const shuffled = {
      ...web,
      definition: {
        ports: [{ published: '8080', target: 80 }],
        labels: { b: '2', a: '1' },
        environment: { NAME: 'web' },
        command: ['sleep', 'infinity'],
        image: 'busybox:latest',
      },
    };
    expect(plan(project(shuffled), [container(P, web, 1)]).isEmpty).toBe(true);
  });

  it('does not recreate for a change of replicas, depends_on, profiles, build or pull_policy', () => {
    const db = service('db');
    const web = service('web');
    const changed = service('web', {
      dependsOn: { db: dep('service_started') },
      extra: { depends_on: { db: { condition: 'service_started' } }, profiles: ['x'], build: { context: '.' }, pull_policy: 'always', deploy: { replicas: 1 } },
      profiles: ['x'],
      pullPolicy: 'always',
    });
    expect(plan(project(db, changed), upToDate(db, web)).isEmpty).toBe(true);
  });

  it('gives the same plan whatever the order of its inputs', () => {
    const { db, cache, web, proxy } = stack();
    const observed = [container(P, db, 1, { state: 'exited', exitCode: 1 }), container(P, web, 1), container(P, cache, 1)];
    const a = plan(project(db, cache, web, proxy), observed).toString();
    const b = plan(project(proxy, web, cache, db), [...observed].reverse()).toString();
    expect(b).toBe(a);
  });
});

describe('plan: recreate', () => {
  it('an environment change recreates only that service and names the field', () => {
    const { db, cache, web, proxy, desired } = stack();
    const observed = upToDate(db, cache, web, proxy);
    const newWeb = service('web', { dependsOn: web.dependsOn, extra: { environment: { NAME: 'web', FOO: 'bar' } } });
    const p = plan({ ...desired, services: desired.services.map((s) => (s.name === 'web' ? newWeb : s)) }, observed);
    expect(p.changes.map((a) => a.id)).toEqual(['recreate:demo-web-1']);
    const r = p.action('recreate:demo-web-1')!;
    expect(r.reason).toBe('environment.FOO changed');
    expect(r.changedFields).toEqual(['environment.FOO']);
    expect(r).toMatchObject({ containerId: 'demo-web-1', number: 1, start: true, configHash: configHash(newWeb.definition) });
    expect(r.after).toEqual(['noop:demo-db-1']);
    // proxy depends on web without restart: it stays, and waits on web's recreate
    expect(p.action('noop:demo-proxy-1')!.after).toEqual(['recreate:demo-web-1']);
  });

  it('a label-only change recreates (as Compose)', () => {
    const web = service('web', { extra: { labels: { tier: 'front' } } });
    const changed = service('web', { extra: { labels: { tier: 'back' } } });
    const p = plan(project(changed), [container(P, web, 1)]);
    expect(kinds(p)).toEqual(['recreate demo-web-1']);
    expect(p.actions[0]!.reason).toBe('labels.tier changed');
  });

  it('an image digest change recreates and says from what to what', () => {
    const web = service('web', { imageDigest: DIGEST_A });
    const p = plan(project(service('web', { imageDigest: DIGEST_B })), [container(P, web, 1)]);
    expect(p.actions[0]!.reason).toBe('image changed from sha256:aaaaaaaaaaaa to sha256:bbbbbbbbbbbb');
    expect(p.actions[0]!.changedFields).toBeUndefined();
  });

  it('an unknown digest on either side is not a change', () => {
    const web = service('web', { imageDigest: undefined });
    expect(plan(project(web), [container(P, service('web'), 1)]).isEmpty).toBe(true);
    expect(plan(project(service('web')), [container(P, web, 1)]).isEmpty).toBe(true);
  });

  it('lists many changed fields briefly', () => {
    const web = service('web');
    const changed = service('web', { extra: { environment: { A: '1', B: '2', C: '3', D: '4', E: '5', NAME: 'web' } } });
    const p = plan(project(changed), [container(P, web, 1)]);
    expect(p.actions[0]!.reason).toBe('environment.A, environment.B, environment.C, environment.D and 1 more changed');
    expect(p.actions[0]!.changedFields).toHaveLength(5);
  });

  it('does not recreate on hash drift: a stale hash over the same definition, or a new field with an empty value', () => {
    const web = service('web');
    expect(plan(project(web), [container(P, web, 1, { configHash: 'hash-from-another-format' })]).isEmpty).toBe(true);
    const newer = service('web', { extra: { devices: [], sysctls: {}, cgroup: null } });
    const p = plan(project(newer), [container(P, web, 1)]);
    expect(configHash(newer.definition)).not.toBe(configHash(web.definition));
    expect(p.isEmpty).toBe(true);
    // a new field with a value, or a known field emptied, is a change
    const withDevice = service('web', { extra: { devices: ['/dev/fuse'] } });
    expect(plan(project(withDevice), [container(P, web, 1)]).actions[0]!.reason).toBe('devices changed');
    const emptied = service('web', { extra: { environment: {} } });
    expect(plan(project(emptied), [container(P, web, 1)]).actions[0]!.reason).toBe('environment.NAME changed');
  });

  it('says so when no recorded definition is there to compare', () => {
    const web = service('web');
    const p = plan(project(web), [container(P, web, 1, { configHash: 'old', definition: undefined })]);
    expect(p.actions[0]!.reason).toBe('configuration changed (no recorded definition to compare)');
  });

  it('recreates a stopped container that is out of date (and starts it)', () => {
    const p = plan(project(service('web', { extra: { user: 'nobody' } })), [container(P, service('web'), 1, { state: 'exited', exitCode: 0 })]);
    expect(p.actions[0]).toMatchObject({ kind: 'recreate', reason: 'user changed', start: true });
  });

  it('recreates under the new name when container_name changes', () => {
    const web = service('web');
    const named = service('web', { containerName: 'front', extra: { container_name: 'front' } });
    const p = plan(project(named), [container(P, web, 1)]);
    expect(p.actions[0]).toMatchObject({
      id: 'recreate:front',
      container: 'front',
      containerId: 'demo-web-1',
      reason: 'container_name changed (was demo-web-1)',
    });
  });

  it('recreates a container attached to a network or volume that was recreated since', () => {
    const web = service('web', { networks: { default: 'net-2', back: 'net-3' }, volumes: { data: 'vol-1' } });
    const c = container(P, web, 1, { networks: { default: 'net-1' }, volumes: { data: 'vol-1' } });
    const p = plan(project(web), [c]);
    expect(p.actions[0]).toMatchObject({ kind: 'recreate', reason: 'not attached to network "back"; network "default" was recreated' });
    // not compared when the container does not report its attachments
    expect(plan(project(web), [container(P, web, 1)]).isEmpty).toBe(true);
  });

  it('refuses a container in a state it does not know', () => {
    const web = service('web');
    const e = thrown(() => plan(project(web), [container(P, web, 1, { state: 'removing' as never })]));
    expect(e.code).toBe('INTERNAL');
    expect(e.message).toBe('container demo-web-1 of service "web" is in an unknown state "removing"');
  });

  it('recreates a dead container', () => {
    const web = service('web');
    const p = plan(project(web), [container(P, web, 1, { state: 'dead' })], { noRecreate: true });
    expect(p.actions[0]).toMatchObject({ kind: 'recreate', reason: 'dead, recreate' });
  });
});

describe('plan: dependencies', () => {
  it('restarts dependents with depends_on.restart when a dependency is recreated', () => {
    const db = service('db');
    const web = service('web', { dependsOn: { db: dep('service_healthy', true) } });
    const worker = service('worker', { dependsOn: { db: dep('service_started', false) } });
    const newDb = service('db', { extra: { environment: { NAME: 'db', POSTGRES_DB: 'x' } } });
    const p = plan(project(newDb, web, worker), upToDate(db, web, worker));
    expect(p.toString()).toBe(
      [
        'plan for project "demo": 1 to stop, 1 to recreate, 1 to start, 1 unchanged',
        '  stop          demo-web-1 (web): dependency db is recreated (depends_on.restart)',
        '  recreate      demo-db-1 (db): environment.POSTGRES_DB changed [after stop:demo-web-1]',
        '  start         demo-web-1 (web): restart after db is recreated [after recreate:demo-db-1, stop:demo-web-1]',
        '  noop          demo-worker-1 (worker): running, up to date [after recreate:demo-db-1]',
      ].join('\n'),
    );
  });

  it('recreates a service sharing the network namespace or volumes of a recreated one', () => {
    const vpn = service('vpn');
    // the depends_on entries the loader adds for these (restart: true for namespaces, false for volumes_from)
    const app = service('app', { dependsOn: { vpn: dep('service_started', true) }, extra: { network_mode: 'service:vpn' } });
    // volumes_from is kept under `unsupported` in the model (src/compose), as the loader leaves it
    const backup = service('backup', { dependsOn: { app: dep() }, extra: { unsupported: { volumes_from: ['app:ro', 'container:other'] } } });
    const p = plan(project(backup, app, service('vpn', { extra: { user: 'x' } })), upToDate(vpn, app, backup));
    expect(p.actions.map((a) => `${a.kind} ${a.container}: ${a.reason}`)).toEqual([
      'recreate demo-vpn-1: user changed',
      'recreate demo-app-1: network_mode: service vpn is recreated',
      'recreate demo-backup-1: volumes_from: service app is recreated',
    ]);
    expect(p.action('recreate:demo-app-1')!.after).toEqual(['recreate:demo-vpn-1']);
    // with nothing recreated, nothing follows
    expect(plan(project(backup, app, vpn), upToDate(vpn, app, backup)).isEmpty).toBe(true);
    // the implicit dependency orders down too
    expect(planDown(project(backup, app, vpn), upToDate(vpn, app, backup)).actions.map((a) => a.container)).toEqual([
      'demo-backup-1',
      'demo-app-1',
      'demo-vpn-1',
    ]);
  });

  it('restarts such dependents even when only the dependency was named', () => {
    const db = service('db');
    const web = service('web', { dependsOn: { db: dep('service_started', true) } });
    const p = plan(project(service('db', { extra: { user: '1' } }), web), upToDate(db, web), { services: ['db'] });
    expect(kinds(p)).toEqual(['stop demo-web-1', 'recreate demo-db-1', 'start demo-web-1']);
  });

  it('does not restart a dependent that is itself recreated, nor a stopped one', () => {
    const db = service('db');
    const web = service('web', { dependsOn: { db: dep('service_started', true) } });
    const api = service('api', { dependsOn: { db: dep('service_started', true) } });
    const p = plan(project(service('db', { extra: { user: '1' } }), service('web', { dependsOn: web.dependsOn, extra: { user: '2' } }), api), [
      container(P, db, 1),
      container(P, web, 1),
      container(P, api, 1, { state: 'exited', exitCode: 137 }),
    ]);
    expect(kinds(p)).toEqual(['recreate demo-db-1', 'start demo-api-1', 'recreate demo-web-1']);
    expect(p.action('start:demo-api-1')!.reason).toBe('exited (137), start');
  });

  it('names the dependencies of named services too, unless --no-deps', () => {
    const { desired } = stack();
    expect(kinds(plan(desired, [], { services: ['proxy'] }))).toEqual(['create demo-db-1', 'create demo-web-1', 'create demo-proxy-1']);
    expect(kinds(plan(desired, [], { services: ['proxy'], noDeps: true }))).toEqual(['create demo-proxy-1']);
    expect(kinds(plan(desired, [], { services: ['cache', 'db'] }))).toEqual(['create demo-cache-1', 'create demo-db-1']);
  });

  it('reports a cycle deterministically, walking names in sorted order', () => {
    const desired = project(
      service('c', { dependsOn: { a: dep() } }),
      service('a', { dependsOn: { b: dep() } }),
      service('b', { dependsOn: { c: dep() } }),
      service('z', { dependsOn: { z: dep() } }),
    );
    const e = thrown(() => plan(desired, []));
    expect(e.code).toBe('SPEC_REFERENCE');
    expect(e.message).toBe('dependency cycle between services: a -> b -> c -> a');
    const reversed = { ...desired, services: [...desired.services].reverse() };
    expect(thrown(() => plan(reversed, [])).message).toBe(e.message);
    expect(thrown(() => planDown(desired, [])).message).toBe(e.message);
  });

  it('refuses a missing required dependency and ignores an optional one', () => {
    const web = service('web', { dependsOn: { db: dep() } });
    expect(thrown(() => plan(project(web), [])).message).toBe('service "web" depends on undefined service "db"');
    const disabled = thrown(() => plan({ project: P, services: [web], disabledServices: ['db'] }, []));
    expect(disabled.code).toBe('SPEC_REFERENCE');
    expect(disabled.message).toContain('disabled by its profiles');
    expect(kinds(plan(project(service('web', { dependsOn: { db: dep('service_started', false, false) } })), []))).toEqual(['create demo-web-1']);
    expect(kinds(plan(project(web), [], { services: ['web'], noDeps: true }))).toEqual(['create demo-web-1']);
  });
});

describe('plan: stopped and paused containers', () => {
  it('starts exited and created containers of an unchanged service, unpauses paused ones, leaves restarting ones', () => {
    const a = service('a');
    const b = service('b');
    const c = service('c');
    const d = service('d');
    const p = plan(project(a, b, c, d), [
      container(P, a, 1, { state: 'exited', exitCode: 0 }),
      container(P, b, 1, { state: 'created' }),
      container(P, c, 1, { state: 'paused' }),
      container(P, d, 1, { state: 'restarting' }),
    ]);
    expect(p.actions.map((x) => `${x.kind} ${x.container}: ${x.reason}`)).toEqual([
      'start demo-a-1: exited (0), start',
      'start demo-b-1: created, start',
      'unpause demo-c-1: paused, unpause',
      'noop demo-d-1: restarting (restart policy)',
    ]);
  });

  it('with --no-start leaves them as they are', () => {
    const a = service('a');
    const p = plan(project(a), [container(P, a, 1, { state: 'exited', exitCode: 3 })], { noStart: true });
    expect(p.isEmpty).toBe(true);
    expect(p.actions[0]!.reason).toBe('exited (3), not started (--no-start)');
  });
});

describe('plan: scale', () => {
  it('scales up filling the lowest free numbers', () => {
    const web = service('web', { replicas: 4 });
    const p = plan(project(web), [container(P, web, 1), container(P, web, 3)]);
    expect(kinds(p)).toEqual(['noop demo-web-1', 'noop demo-web-3', 'create demo-web-2', 'create demo-web-4']);
    expect(p.action('create:demo-web-2')!.reason).toBe('scale 2 → 4');
  });

  it('scales down removing the highest numbers first', () => {
    const web = service('web', { replicas: 1 });
    const p = plan(
      project(web),
      [1, 2, 3].map((n) => container(P, web, n)),
    );
    expect(p.toString()).toBe(
      [
        'plan for project "demo": 2 to scale down, 1 unchanged',
        '  scale-down    demo-web-3 (web): scale 3 → 1',
        '  scale-down    demo-web-2 (web): scale 3 → 1',
        '  noop          demo-web-1 (web): running, up to date',
      ].join('\n'),
    );
  });

  it('--scale overrides replicas, and 0 removes every replica', () => {
    const web = service('web', { replicas: 2 });
    const observed = [container(P, web, 1), container(P, web, 2)];
    expect(kinds(plan(project(web), observed, { scale: { web: 3 } }))).toEqual(['noop demo-web-1', 'noop demo-web-2', 'create demo-web-3']);
    expect(kinds(plan(project(web), observed, { scale: { web: 0 } }))).toEqual(['scale-down demo-web-2', 'scale-down demo-web-1']);
  });

  it('removes out-of-date replicas first when scaling down', () => {
    const web = service('web', { replicas: 2 });
    const old = service('web', { replicas: 2, extra: { user: 'old' } });
    const p = plan(project(web), [container(P, old, 1), container(P, web, 2), container(P, web, 3)]);
    expect(kinds(p)).toEqual(['scale-down demo-web-1', 'noop demo-web-2', 'noop demo-web-3']);
  });

  it('scales a changed service: removes extra replicas and recreates the rest', () => {
    const old = service('web');
    const web = service('web', { replicas: 1, extra: { environment: { NAME: 'web', X: '1' } } });
    const p = plan(project(web), [container(P, old, 1), container(P, old, 2)]);
    expect(kinds(p)).toEqual(['scale-down demo-web-2', 'recreate demo-web-1']);
  });

  it('removes a duplicate replica number left by an interrupted run', () => {
    const web = service('web');
    const p = plan(project(web), [container(P, web, 1), container(P, web, 1, { id: 'demo-web-1-dup', state: 'created' })]);
    expect(kinds(p)).toEqual(['remove demo-web-1-dup', 'noop demo-web-1']);
    expect(p.actions[0]!.reason).toBe('duplicate replica number 1');
  });

  it('refuses more than one replica with container_name, and bad --scale values', () => {
    const e = thrown(() => plan(project(service('db', { containerName: 'db' })), [], { scale: { db: 2 } }));
    expect(e.code).toBe('PLAN');
    expect(e.message).toBe('service "db" sets container_name "db" and cannot run 2 replicas: container names must be unique');
    expect(thrown(() => plan(project(service('db')), [], { scale: { db: -1 } })).code).toBe('USAGE');
    expect(thrown(() => plan(project(service('db')), [], { scale: { nope: 1 } })).code).toBe('NO_SUCH_SERVICE');
  });
});

describe('plan: orphans', () => {
  const web = service('web');
  const observed = (): ObservedContainer[] => [
    container(P, web, 1),
    { ...container(P, service('old'), 1), service: 'old' },
    { ...container(P, web, 1), id: 'demo-web-run-1a2b', oneOff: true, state: 'exited', exitCode: 0 },
    { ...container(P, web, 1), id: 'demo-web-run-3c4d', oneOff: true, state: 'running' },
  ];

  it('warns naming them without --remove-orphans', () => {
    const p = plan(project(web), observed());
    expect(p.isEmpty).toBe(true);
    expect(p.warnings).toEqual([
      'orphan containers found: demo-old-1, demo-web-run-1a2b (service old not in the project); run with --remove-orphans to remove them',
    ]);
  });

  it('removes them with --remove-orphans (not running one-off containers)', () => {
    const p = plan(project(web), observed(), { removeOrphans: true });
    expect(p.warnings).toEqual([]);
    expect(p.toString()).toBe(
      [
        'plan for project "demo": 2 orphans to remove, 1 unchanged',
        '  remove-orphan demo-old-1 (old): service "old" is not in the project',
        '  remove-orphan demo-web-run-1a2b (web): one-off container of "web", exited',
        '  noop          demo-web-1 (web): running, up to date',
      ].join('\n'),
    );
  });

  it('does not count containers of services disabled by profiles', () => {
    const p = plan({ project: P, services: [web], disabledServices: ['old'] }, observed().slice(0, 2));
    expect(p.warnings).toEqual([]);
  });

  it('removes an orphan before creating a container with its name', () => {
    const renamed = service('api', { containerName: 'shared' });
    const p = plan(project(renamed), [{ ...container(P, web, 1), id: 'shared' }], { removeOrphans: true });
    expect(p.action('create:shared')!.after).toEqual(['remove-orphan:shared']);
    // and before recreating a container under that name
    const api = service('api');
    const named = service('api', { containerName: 'shared', extra: { container_name: 'shared' } });
    const q = plan(project(named), [container(P, api, 1), { ...container(P, web, 1), id: 'shared' }], { removeOrphans: true });
    expect(q.action('recreate:shared')!.after).toEqual(['remove-orphan:shared']);
  });
});

describe('plan: recreate options', () => {
  const db = service('db');
  const web = service('web', { dependsOn: { db: dep() } });
  const changedDb = service('db', { extra: { user: 'x' } });

  it('--no-recreate keeps a diverged container and says so', () => {
    const p = plan(project(changedDb, web), upToDate(db, web), { noRecreate: true });
    expect(p.isEmpty).toBe(true);
    expect(p.action('noop:demo-db-1')!.reason).toBe('running (--no-recreate)');
    expect(p.warnings).toEqual(['demo-db-1 differs from the configuration (user changed) but --no-recreate keeps it']);
  });

  it('--force-recreate recreates named services, not their dependencies', () => {
    const p = plan(project(db, web), upToDate(db, web), { forceRecreate: true, services: ['web'] });
    expect(kinds(p)).toEqual(['noop demo-db-1', 'recreate demo-web-1']);
    expect(p.action('recreate:demo-web-1')!.reason).toBe('recreate forced (--force-recreate)');
    expect(kinds(plan(project(db, web), upToDate(db, web), { forceRecreate: true }))).toEqual(['recreate demo-db-1', 'recreate demo-web-1']);
  });

  it('--always-recreate-deps recreates the dependencies of named services', () => {
    const p = plan(project(db, web), upToDate(db, web), { alwaysRecreateDeps: true, services: ['web'] });
    expect(kinds(p)).toEqual(['recreate demo-db-1', 'noop demo-web-1']);
    expect(p.action('recreate:demo-db-1')!.reason).toBe('recreate forced (--always-recreate-deps)');
  });

  it('refuses --force-recreate with --no-recreate, and unknown services', () => {
    expect(thrown(() => plan(project(db), [], { forceRecreate: true, noRecreate: true })).code).toBe('USAGE');
    const e = thrown(() => plan(project(db, web), [], { services: ['nope'] }));
    expect(e.code).toBe('NO_SUCH_SERVICE');
    expect(e.hint).toBe('services: db, web');
  });

  it('only touches the named services and their dependencies', () => {
    const other = service('other');
    const p = plan(project(changedDb, web, service('other', { extra: { user: 'y' } })), upToDate(db, web, other), { services: ['db'] });
    expect(kinds(p)).toEqual(['recreate demo-db-1']);
  });
});

describe('planDown', () => {
  it('removes dependents before their dependencies and warns about orphans', () => {
    const { db, cache, web, proxy, desired } = stack();
    const observed = [
      ...upToDate(db, cache, web, proxy),
      { ...container(P, web, 1), id: 'demo-web-run-1', oneOff: true, state: 'exited' as const },
      { ...container(P, db, 1), id: 'demo-gone-1', service: 'gone' },
    ];
    const p = planDown(desired, observed);
    expect(p.toString()).toBe(
      [
        'plan for project "demo": 5 to remove',
        '  remove        demo-proxy-1 (proxy): running, stop and remove',
        '  remove        demo-web-1 (web): running, stop and remove [after remove:demo-proxy-1]',
        '  remove        demo-web-run-1 (web): one-off container, exited, remove [after remove:demo-proxy-1]',
        '  remove        demo-db-1 (db): running, stop and remove [after remove:demo-web-1, remove:demo-web-run-1]',
        '  remove        demo-cache-1 (cache): running, stop and remove',
        'warning: orphan containers found: demo-gone-1 (services gone not in the project); run with --remove-orphans to remove them',
      ].join('\n'),
    );
    expect(planDown(desired, observed, { removeOrphans: true }).action('remove-orphan:demo-gone-1')).toBeDefined();
  });
});

describe('Plan', () => {
  it('serializes to JSON for machine output', () => {
    const p = plan(project(service('web')), []);
    const j = JSON.parse(JSON.stringify(p)) as { project: string; actions: { id: string }[]; warnings: string[] };
    expect(j.project).toBe(P);
    expect(j.actions.map((a) => a.id)).toEqual(['create:demo-web-1']);
  });

  it('is built only from its inputs (PlanOptions default)', () => {
    const opts: PlanOptions = {};
    const web = service('web');
    expect(plan(project(web), [], opts).toString()).toBe(plan(project(web), []).toString());
    expect(definition('x')).toEqual({ image: 'busybox:latest', command: ['sleep', 'infinity'], environment: { NAME: 'x' } });
  });
});
