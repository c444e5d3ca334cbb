/** `provider:` services load, print with config, and are refused by up/run before any change. */
import { describe, expect, it } from 'vitest';

import { refuseProviderServices, servicesInScope } from '../../../src/apply/up.js';
import { TscError } from '../../../src/common/errors.js';
import { renderConfig } from '../../../src/compose/index.js';
import { withProject } from '../compose/helpers.js';

const compose =
  'services:\n  ai:\n    provider:\n      type: model\n      options:\n        model: ai/smollm2\n        args: [--verbose]\n  web:\n    image: busybox\n    depends_on: [ai]\n  cache:\n    image: busybox\n';

describe('provider services', () => {
  it('are accepted in the model with their type and options, and printed by config', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', compose);
      const proj = await p.load();
      expect(proj.services.ai.provider).toEqual({ type: 'model', options: { model: 'ai/smollm2', args: ['--verbose'] } });
      expect(proj.services.ai.image).toBeUndefined();
      expect(proj.warnings.join('\n')).not.toMatch(/provider/);
      expect(JSON.parse(renderConfig(proj, 'json')).services.ai.provider).toEqual({ type: 'model', options: { model: 'ai/smollm2', args: ['--verbose'] } });
    });
  });

  it('are refused in one paragraph naming the service and provider type, when in scope', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', compose);
      const proj = await p.load();
      let err: unknown;
      try {
        refuseProviderServices(servicesInScope(proj, ['web']), 'up');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TscError);
      const e = err as TscError;
      expect(e.code).toBe('SPEC_UNSUPPORTED');
      expect(e.message).toBe(
        'service "ai" is managed by the external provider "model" (provider: in the compose file), and tscompose cannot run provider services: up stopped before changing anything',
      );
      expect(e.message).not.toMatch(/\n/);
      // services that do not need it are fine
      expect(() => refuseProviderServices(servicesInScope(proj, ['cache']), 'up')).not.toThrow();
      expect(() => refuseProviderServices(servicesInScope(proj, ['web'], true), 'run')).not.toThrow();
    });
  });

  it('still need a type (schema), and an image is not required', async () => {
    await withProject(async (p) => {
      p.write('compose.yaml', 'services:\n  ai:\n    provider:\n      options: {model: x}\n');
      await expect(p.load()).rejects.toThrow(/services\.ai\.provider\.type: missing required key/);
    });
  });
});
