// Writes schema/conn-check.schema.json from the zod schemas (npm run schema).
import { mkdirSync, writeFileSync } from 'node:fs';
import { configJsonSchema } from '../src/config/schema.js';

mkdirSync('schema', { recursive: true });
writeFileSync('schema/conn-check.schema.json', JSON.stringify(await configJsonSchema(), null, 2) + '\n');
console.log('wrote schema/conn-check.schema.json');
