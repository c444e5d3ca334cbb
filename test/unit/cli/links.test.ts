import { describe, expect, it } from 'vitest';
import { serviceLinks } from '../../../src/apply/links.js';
import type { Service } from '../../../src/compose/index.js';

describe('serviceLinks', () => {
  it('reads "db", "db:alias" strings (unsupported.links) and {service, alias} objects (links)', () => {
    expect(serviceLinks({ unsupported: { links: ['db', 'cache:redis'] } } as unknown as Service)).toEqual([
      { service: 'db', alias: 'db' },
      { service: 'cache', alias: 'redis' },
    ]);
    expect(serviceLinks({ links: [{ service: 'db', alias: 'database' }, { service: 'x' }], unsupported: {} } as unknown as Service)).toEqual([
      { service: 'db', alias: 'database' },
      { service: 'x', alias: 'x' },
    ]);
    expect(serviceLinks({ unsupported: {} } as unknown as Service)).toEqual([]);
  });
});
