// Writes src/tokenizer/ptb-unicode.ts from src/tokenizer/ptb-unicode-generator.ts (npm run generate:ptb-unicode).
import { rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadTs } from './load-ts.mjs';

const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'tokenizer');
const { renderPtbUnicodeModule } = await loadTs(join(src, 'ptb-unicode-generator.ts'));
const out = join(src, 'ptb-unicode.ts');
await writeFile(`${out}.tmp`, renderPtbUnicodeModule());
await rename(`${out}.tmp`, out);
console.log(`wrote ${out}`);
