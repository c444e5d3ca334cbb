/** `npm run gen:schema`: writes schema/compose.schema.json from the zod schema. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';

import { PACKAGE_ROOT } from '../common/paths.js';
import { composeJsonSchemaText } from './jsonschema.js';

const out = path.join(PACKAGE_ROOT, 'schema', 'compose.schema.json');
writeFileSync(out, composeJsonSchemaText());
process.stdout.write(`wrote ${out}\n`);
