import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ptbTokenize } from './ptb-tokenizer';
import { DERIVED_FROM_UNICODE } from './ptb-unicode';
import { renderPtbUnicodeModule } from './ptb-unicode-generator';

const sameUnicode = process.versions.unicode === DERIVED_FROM_UNICODE;

describe('ptb-unicode.ts (the lexer’s Unicode classes)', () => {
  it.skipIf(!sameUnicode)('should be exactly what the generator computes on this Unicode version', () => {
    const committed = readFileSync(join(__dirname, 'ptb-unicode.ts'), 'utf8');
    expect(renderPtbUnicodeModule()).toBe(committed);
  });
  if (!sameUnicode) console.warn(`[skip] ptb-unicode.ts was derived from Unicode ${DERIVED_FROM_UNICODE}; this engine has ${process.versions.unicode}`);

  it('should treat letters and digits the way the reference lexer does, whatever the engine’s Unicode version', () => {
    // U+0528 and U+A7C0 are letters newer than the lexer's tables (deleted); U+1885 was a letter then (kept);
    // U+0DE6 is a Sinhala digit added later (deleted); U+0663 is an old Arabic-Indic digit (kept)
    expect(ptbTokenize(['a\u0528b c\ua7c0d e\u1885f g\u0de6h 1\u06632'])).toEqual(['a b c d e\u1885f g h 1\u06632']);
  });
});
