// Writes src/metrics/libm-tables.ts from src/metrics/libm-table-generator.ts (npm run generate:libm-tables).
import { rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTs } from './load-ts.mjs';

const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'metrics');
const { renderLibmTablesModule } = await loadTs(join(src, 'libm-table-generator.ts'));
const out = join(src, 'libm-tables.ts');
await writeFile(`${out}.tmp`, renderLibmTablesModule());
await rename(`${out}.tmp`, out);
console.log(`wrote ${out}`);
