/**
 * Conformance: tscompose's zod schema and the official Compose Specification JSON Schema must
 * agree on which files are valid. Every intentional difference is listed in DIFFERENCES below,
 * with its reason; nowhere else.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';

import { ComposeFileSchema } from '../../../src/compose/schema.js';
import { stripTags } from '../../../src/compose/canonical.js';
import { parseComposeYaml } from '../../../src/compose/yaml.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.resolve(here, '../../fixtures/compose');

/**
 * The one place intentional differences live: fixture → what each validator says, and why.
 * `zod`/`official`: true = accepts.
 */
export const DIFFERENCES: Record<string, { zod: boolean; official: boolean; reason: string }> = {
  'invalid/container-name-chars.yaml': {
    zod: false,
    official: true,
    reason:
      "the official pattern for container_name is not anchored (any name containing two valid characters passes); tscompose anchors it, since the name becomes the container's id",
  },
  'invalid/develop-number.yaml': {
    zod: true,
    official: false,
    reason:
      'keys tscompose does not act on and that have deep structures (develop, blkio_config, credential_spec, gpus, deploy.placement, ...) are kept as written without type checks; they produce an "unsupported" warning instead',
  },
  'extra/depends-on-no-condition.yaml': {
    zod: true,
    official: false,
    reason: 'Compose itself defaults a missing condition to service_started; tscompose follows Compose rather than the schema',
  },
};

const EXTRA: Record<string, string> = {
  'depends-on-no-condition.yaml': 'services:\n  web:\n    image: busybox\n    depends_on:\n      db:\n        required: true\n  db:\n    image: busybox\n',
};

function officialValidator() {
  const schema = JSON.parse(readFileSync(path.join(fixtures, 'compose-spec.json'), 'utf8')) as Record<string, unknown>;
  // The file names its draft by an https URL ajv does not know; it is draft-07, ajv's default.
  delete schema.$schema;
  const ajv = new Ajv({ allErrors: true, strict: false });
  const addFormats = (addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule;
  (addFormats as unknown as (a: Ajv) => void)(ajv);
  return ajv.compile(schema);
}

function load(file: string, text?: string): unknown {
  const body = text ?? readFileSync(file, 'utf8');
  return stripTags(parseComposeYaml(body, file).data);
}

describe('conformance with the official Compose Specification schema', () => {
  const official = officialValidator();
  const cases: { id: string; data: unknown; expect: boolean }[] = [];
  for (const kind of ['valid', 'invalid'] as const) {
    const dir = path.join(fixtures, 'conformance', kind);
    for (const f of readdirSync(dir)
      .filter((n) => n.endsWith('.yaml'))
      .sort()) {
      cases.push({ id: `${kind}/${f}`, data: load(path.join(dir, f)), expect: kind === 'valid' });
    }
  }
  for (const [f, text] of Object.entries(EXTRA)) cases.push({ id: `extra/${f}`, data: load(f, text), expect: true });
  // The shipped examples must be valid for both as well.
  const examples = path.resolve(here, '../../../examples');
  for (const d of readdirSync(examples).sort()) {
    const f = path.join(examples, d, 'compose.yaml');
    if (existsSync(f)) cases.push({ id: `examples/${d}/compose.yaml`, data: load(f), expect: true });
  }

  it('has at least 60 fixture files, valid and invalid', () => {
    expect(cases.filter((c) => c.id.startsWith('valid/')).length).toBeGreaterThanOrEqual(30);
    expect(cases.filter((c) => c.id.startsWith('invalid/')).length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases.map((c) => [c.id, c] as const))('%s', (_id, c) => {
    const zodOk = ComposeFileSchema.safeParse(c.data).success;
    const officialOk = official(c.data) === true;
    const diff = DIFFERENCES[c.id];
    if (diff) {
      expect({ zod: zodOk, official: officialOk }).toEqual({ zod: diff.zod, official: diff.official });
    } else {
      expect({ zod: zodOk, official: officialOk }, JSON.stringify(official.errors?.slice(0, 2))).toEqual({ zod: c.expect, official: c.expect });
    }
  });
});
