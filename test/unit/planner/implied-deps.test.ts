/**
 * Dependencies Compose implies (links, `service:X` namespaces, volumes_from) are added to
 * depends_on by the loader, once; the planner reads depends_on only and adds nothing itself.
 */
import { describe, expect, it } from 'vitest';

import { sharedResourceRefs } from '../../../src/planner/divergence.js';
import { plan, planDown } from '../../../src/planner/index.js';
import type { DesiredProject } from '../../../src/planner/types.js';
import { withProject } from '../compose/helpers.js';
import { container, service } from './fixtures.js';

describe('implied dependencies: one implementation, in the loader', () => {
  it('the planner does not add an edge for network_mode/volumes_from that depends_on lacks', () => {
    const desired: DesiredProject = {
      project: 'demo',
      services: [service('vpn'), service('app', { extra: { network_mode: 'service:vpn', volumes_from: ['vpn'] } })],
    };
    expect(plan(desired, []).action('create:demo-app-1')!.after).toEqual([]);
  });

  it("a loaded project orders by the loader's implied entries, each edge once", async () => {
    await withProject(async (p) => {
      p.write(
        'compose.yaml',
        'services:\n  app:\n    image: x\n    network_mode: service:vpn\n    ipc: service:vpn\n    links: [vpn]\n    depends_on: [vpn]\n  backup:\n    image: x\n    volumes_from: [app]\n    links: ["app:a"]\n  vpn:\n    image: x\n',
      );
      const proj = await p.load({ projectName: 'demo' });
      expect(proj.services.app.depends_on).toEqual({ vpn: { condition: 'service_started', restart: false, required: true } });
      expect(proj.services.backup.depends_on).toEqual({ app: { condition: 'service_started', restart: true, required: true } });
      const desired: DesiredProject = {
        project: 'demo',
        services: Object.values(proj.services).map((s) => ({ name: s.name, replicas: 1, dependsOn: s.depends_on, definition: s, image: s.image ?? '' })),
      };
      const up = plan(desired, []);
      expect(up.toString().split('\n').slice(1)).toEqual([
        '  create        demo-vpn-1 (vpn): new container',
        '  create        demo-app-1 (app): new container [after create:demo-vpn-1]',
        '  create        demo-backup-1 (backup): new container [after create:demo-app-1]',
      ]);
      const observed = up.actions.map((a, i) => ({
        id: `c${i}`,
        name: a.container,
        service: a.service,
        number: 1,
        state: 'running' as const,
        configHash: a.configHash!,
        oneOff: false,
      }));
      expect(planDown(desired, observed).actions.map((a) => a.container)).toEqual(['demo-backup-1', 'demo-app-1', 'demo-vpn-1']);
    });
  });
});

describe('services sharing namespaces or volumes follow a recreate', () => {
  it('sharedResourceRefs reads ipc, pid and volumes_from where the model keeps them (unsupported)', () => {
    const def = { network_mode: 'service:net', unsupported: { ipc: 'service:a', pid: 'service:b', volumes_from: ['c:ro', 'container:x', 'd'] } };
    expect(sharedResourceRefs(def)).toEqual([
      ['network_mode', 'net'],
      ['ipc', 'a'],
      ['pid', 'b'],
      ['volumes_from', 'c'],
      ['volumes_from', 'd'],
    ]);
    expect(sharedResourceRefs({ ipc: 'host', unsupported: { pid: 'host', volumes_from: [] } })).toEqual([]);
    expect(sharedResourceRefs({ unsupported: 'odd' })).toEqual([]);
  });

  it('a loaded project: ipc, pid and volumes_from of a recreated service recreate its users', async () => {
    await withProject(async (p) => {
      const write = (env: string): string =>
        p.write(
          'compose.yaml',
          `services:\n  base:\n    image: x\n    environment: {V: "${env}"}\n  ipc:\n    image: x\n    ipc: service:base\n  pid:\n    image: x\n    pid: service:base\n  vols:\n    image: x\n    volumes_from: ["base:ro"]\n  alone:\n    image: x\n`,
        );
      const desiredOf = async (): Promise<DesiredProject> => {
        const proj = await p.load({ projectName: 'demo' });
        return {
          project: 'demo',
          services: Object.values(proj.services).map((s) => ({ name: s.name, replicas: 1, dependsOn: s.depends_on, definition: s, image: s.image ?? '' })),
        };
      };
      write('1');
      const before = await desiredOf();
      const observed = before.services.map((s) => container('demo', s, 1));
      write('2');
      const after = plan(await desiredOf(), observed);
      expect(after.actions.map((a) => `${a.kind} ${a.container}: ${a.reason}`)).toEqual([
        'noop demo-alone-1: running, up to date',
        'recreate demo-base-1: environment.V changed',
        'recreate demo-ipc-1: ipc: service base is recreated',
        'recreate demo-pid-1: pid: service base is recreated',
        'recreate demo-vols-1: volumes_from: service base is recreated',
      ]);
    });
  });
});
