import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Rng } from '@synth2/core';
import { describe, expect, it } from 'vitest';
import { cocoEvalDir, readJsonMaybeGz } from '../test-helpers';
import { ptbTokenize } from './ptb-tokenizer';
import { insertEdgeCases, readRulesTable, widenSpaces, type StressCaption } from './rules-table';

const dir = cocoEvalDir();
const tok = (s: string): string => ptbTokenize([s])[0];

/** 1,500 real MAGIC reference captions with rows of the rules table inserted at random (seed 24). */
function stressCorpus(): { corpus: StressCaption[]; rng: Rng } {
  const items = readJsonMaybeGz<{ captions: string[] }[]>(join(dir!, 'magic_mscoco_karpathy_test_magic_result.json.gz'));
  const real = items.slice(0, 800).flatMap((it) => it.captions).filter((c) => c.trim().split(/ +/).length >= 4);
  const rows = readRulesTable().filter((r) => r.anywhere);
  const rng = new Rng(24);
  const corpus = Array.from({ length: 1500 }, () => insertEdgeCases(real[rng.int(real.length)], rows, rng));
  return { corpus, rng };
}

describe.skipIf(!dir)('ptbTokenize on real captions laced with edge cases', () => {
  const { corpus, rng } = dir ? stressCorpus() : { corpus: [], rng: new Rng(0) };

  it('should lose and invent no token: the tokens are those of the pieces, in order', () => {
    for (const s of corpus) {
      const expected = s.pieces.map((p) => ('real' in p ? tok(p.real) : p.row.tokens)).filter((t) => t !== '').join(' ');
      expect(tok(s.caption), s.caption).toBe(expected);
    }
  });

  it('should not change when the spaces between words widen (runs, tabs, Unicode spaces, leading, trailing)', () => {
    for (const s of corpus) expect(tok(widenSpaces(s, rng)), s.caption).toBe(tok(s.caption));
  });

  it('should be idempotent where every inserted rule is', () => {
    let checked = 0;
    for (const s of corpus) {
      if (!s.pieces.every((p) => 'real' in p || p.row.idempotent)) continue;
      const once = tok(s.caption);
      expect(tok(once), s.caption).toBe(once);
      checked++;
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it('should tokenize the whole corpus as one file exactly as the official tokenizer does', () => {
    // sha256 of the official PTBTokenizer 3.4.1 output (after the COCO punctuation filter) for these 1,500 lines
    const out = ptbTokenize(corpus.map((s) => s.caption)).join('\n');
    expect(createHash('sha256').update(out).digest('hex')).toBe(STRESS_CORPUS_OFFICIAL_SHA256);
  });
});

const STRESS_CORPUS_OFFICIAL_SHA256 = '3cef06eccfae140186b8487d7a6dcc365b12fffb4363010be666701d2d82867d';
