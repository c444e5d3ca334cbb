import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';

import { composeJsonSchemaText } from '../../../src/compose/jsonschema.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

describe('schema/compose.schema.json', () => {
  it('is up to date with the zod schema (run `npm run gen:schema` after changing src/compose/schema-input.ts)', () => {
    const checkedIn = readFileSync(path.join(root, 'schema/compose.schema.json'), 'utf8');
    expect(checkedIn).toBe(composeJsonSchemaText());
  });

  it('is a usable draft-07 schema that accepts the examples and rejects unknown keys, allowing x-*', () => {
    const ajv = new Ajv({ strict: false });
    const validate = ajv.compile(JSON.parse(composeJsonSchemaText()));
    expect(validate({ services: { web: { image: 'busybox', 'x-a': 1, ports: ['80:80'] } } })).toBe(true);
    expect(validate({ services: { web: { imgae: 'busybox' } } })).toBe(false);
  });
});
