import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CONTRACT_SCHEMAS, contractJsonSchema, type ContractSchemaName } from '../src/shared/contract/json-schemas';

// Writes schemas/<name>.schema.json from the zod schemas of the workflow contract (`npm run schemas`).
const dir = resolve(__dirname, '..', 'schemas');
for (const name of Object.keys(CONTRACT_SCHEMAS) as ContractSchemaName[]) {
  const file = join(dir, `${name}.schema.json`);
  writeFileSync(file, `${JSON.stringify(contractJsonSchema(name), null, 2)}\n`);
  console.log(`wrote ${file}`);
}
