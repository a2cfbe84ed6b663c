import { describe, expect, it } from 'vitest';
import { ptbTokenize } from './ptb-tokenizer';
import { readRulesTable } from './rules-table';

const rows = readRulesTable();

describe('ptbTokenize rules table (docs/ptb-tokenizer-rules.md)', () => {
  it('should cover every token class the official tokenizer can meet in captions', () => {
    const kinds = new Set(rows.map((r) => r.kind));
    for (const kind of ['words', 'clitics', 'abbreviations', 'acronyms', 'symbols', 'quotes', 'brackets', 'dashes', 'ellipses', 'numbers', 'urls', 'emails', 'emoticons', 'sgml', 'entities', 'spaces']) {
      expect(kinds, kind).toContain(kind);
    }
    expect(rows.length).toBeGreaterThanOrEqual(80);
  });

  it.each(rows.map((r) => [`${r.kind}: ${r.rule}`, r] as const))('%s', (_name, row) => {
    expect(ptbTokenize([row.caption])[0]).toBe(row.tokens);
    // re-tokenizing gives the same tokens exactly where the official tokenizer's do
    expect(ptbTokenize([row.tokens])[0] === row.tokens, 'idempotent').toBe(row.idempotent);
  });
});
