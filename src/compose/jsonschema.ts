/** The JSON Schema for editors, generated from the zod input schema (checked in as schema/compose.schema.json). */
import { z } from 'zod';

import { ComposeFileSchema } from './schema-input.js';

export function composeJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ComposeFileSchema, {
    io: 'input',
    target: 'draft-7',
    unrepresentable: 'any',
    override: (ctx) => {
      const js = ctx.jsonSchema as Record<string, unknown>;
      // Objects built with ext() accept x-* extension keys only, like the official schema.
      if (
        js.type === 'object' &&
        js.properties &&
        js.additionalProperties !== undefined &&
        typeof js.additionalProperties === 'object' &&
        Object.keys(js.additionalProperties as object).length === 0
      ) {
        js.additionalProperties = false;
        js.patternProperties = { '^x-': {} };
      }
    },
  });
  return schema as Record<string, unknown>;
}

export function composeJsonSchemaText(): string {
  return JSON.stringify(composeJsonSchema(), null, 2) + '\n';
}
