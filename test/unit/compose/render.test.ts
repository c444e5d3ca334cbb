import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { renderConfig, renderEnvironment } from '../../../src/compose/render.js';
import { withProject } from './helpers.js';

describe('config rendering (docker compose config style)', () => {
  it('prints durations, sizes, extra_hosts and sorted keys like docker compose', async () => {
    await withProject(async (p) => {
      p.write(
        'compose.yaml',
        [
          'name: demo',
          'services:',
          '  web:',
          '    image: busybox',
          '    stop_grace_period: 90s',
          '    mem_limit: 1g',
          '    extra_hosts: ["a:10.0.0.1"]',
          '    healthcheck:',
          '      test: "true"',
          '      interval: 2500ms',
          '    deploy:',
          '      resources:',
          '        limits: {memory: 512m, cpus: "0.25"}',
          '    x-note: kept',
          'x-top: 1',
          '',
        ].join('\n'),
      );
      const proj = await p.load();
      const text = renderConfig(proj);
      const doc = parse(text) as Record<string, any>;
      expect(Object.keys(doc)).toEqual(['name', 'services', 'networks', 'x-top']);
      const web = doc.services.web;
      expect(Object.keys(web)).toEqual([...Object.keys(web)].sort());
      expect(web.stop_grace_period).toBe('1m30s');
      expect(web.mem_limit).toBe('1073741824');
      expect(web.extra_hosts).toEqual(['a=10.0.0.1']);
      expect(web.healthcheck).toEqual({ test: ['CMD-SHELL', 'true'], interval: '2.5s' });
      expect(web.deploy.resources.limits).toEqual({ memory: '536870912', cpus: 0.25 });
      expect(web['x-note']).toBe('kept');
      expect(doc.networks).toEqual({ default: { name: 'demo_default' } });
      expect(JSON.parse(renderConfig(proj, 'json'))).toEqual(doc);
    });
  });

  it('renders the environment report with sources', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  web:\n    image: ${IMG}\n    user: ${U:-nobody}\n');
      p.write('.env', 'IMG=busybox\n');
      const out = renderEnvironment(await p.load({ env: {} }));
      expect(out.split('\n')[0]).toMatch(/^IMG=busybox\t# dotenv; used in .*compose\.yaml:3:5 services\.web\.image$/);
      expect(out.split('\n')[1]).toMatch(/^U=nobody\t# default; used in /);
    });
  });
});

describe('empty command and entrypoint', () => {
  it('"" or [] clears the image default and is printed; absent stays absent', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  web:\n    image: busybox\n    entrypoint: ""\n  api:\n    image: busybox\n');
      const proj = await p.load();
      expect(proj.services.web.entrypoint).toEqual([]);
      expect(proj.services.web.command).toBeNull();
      const doc = parse(renderConfig(proj)) as Record<string, any>;
      expect(doc.services.web.entrypoint).toEqual([]);
      expect('command' in doc.services.web).toBe(false);
      expect('entrypoint' in doc.services.api).toBe(false);
    });
  });
});
