import { describe, expect, it } from 'vitest';
import { InvalidInputError, Rng } from '@synth2/core';
import { resolveDecodeOptions, searchCaptions, type NextTokenScorer } from './caption-search';

const PAD = 0;
const BOS = 1;
const EOS = 2;

/** A bigram "model": log-probabilities depend on the image and the last token, from fixed tables. */
function bigramScorer(tables: number[][][], vocabSize: number, calls?: number[]): NextTokenScorer {
  return (images, prefixes) => {
    calls?.push(images.length);
    const out = new Float32Array(images.length * vocabSize);
    images.forEach((img, r) => {
      const last = prefixes[r][prefixes[r].length - 1];
      const probs = tables[img][last];
      for (let v = 0; v < vocabSize; v++) out[r * vocabSize + v] = Math.log(probs[v]);
    });
    return out;
  };
}

function randomTables(rng: Rng, images: number, vocabSize: number): number[][][] {
  return Array.from({ length: images }, () =>
    Array.from({ length: vocabSize }, () => {
      const w = Array.from({ length: vocabSize }, () => rng.uniform() ** 3 + 1e-3);
      const sum = w.reduce((a, b) => a + b, 0);
      return w.map((x) => x / sum);
    }),
  );
}

const base = { vocabSize: 6, bos: BOS, eos: EOS, banned: [PAD, BOS], lengthPenalty: 1, beamSize: 3 };

describe('searchCaptions', () => {
  it('should follow the most likely next token with greedy decoding and stop at EOS', () => {
    // image 0: BOS → 3 → 4 → EOS ; image 1: BOS → 5 → EOS
    const row = (best: number) => Array.from({ length: 6 }, (_, v) => (v === best ? 0.9 : 0.1 / 5));
    const t0 = [row(3), row(3), row(3), row(4), row(EOS), row(EOS)];
    const t1 = [row(5), row(5), row(5), row(5), row(5), row(EOS)];
    const calls: number[] = [];
    const res = searchCaptions({
      ...base,
      count: 2,
      maxLength: 10,
      strategy: 'greedy',
      score: bigramScorer([t0, t1], 6, calls),
    });
    expect(res.tokens).toEqual([[3, 4], [5]]);
    // batched: both images in one call per step, finished ones drop out
    expect(calls).toEqual([2, 2, 1]);
  });

  it('should find a more likely caption with beam search than greedy', () => {
    // greedy takes 3 (0.5) then a flat distribution; the beam finds 4 (0.4) then EOS (0.99)
    const flat = [0.0, 0.0, 0.25, 0.25, 0.25, 0.25];
    const bos = [0, 0, 0, 0.5, 0.4, 0.1];
    const after4 = [0, 0, 0.99, 0.004, 0.003, 0.003];
    const table = [flat, bos, flat, flat, after4, flat].map((r) => r.map((p) => p + 1e-9));
    const greedy = searchCaptions({ ...base, count: 1, maxLength: 5, strategy: 'greedy', score: bigramScorer([table], 6) });
    const beam = searchCaptions({ ...base, count: 1, maxLength: 5, strategy: 'beam', score: bigramScorer([table], 6) });
    expect(greedy.tokens[0][0]).toBe(3);
    expect(beam.tokens[0]).toEqual([4]);
    expect(beam.logProbs[0]).toBeGreaterThan(greedy.logProbs[0]);
  });

  it('should equal greedy decoding with beam size 1', () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 20; trial++) {
      const tables = randomTables(rng, 4, 7);
      const opts = { ...base, vocabSize: 7, count: 4, maxLength: 8, lengthPenalty: rng.uniform(0, 2) };
      const greedy = searchCaptions({ ...opts, strategy: 'greedy', score: bigramScorer(tables, 7) });
      const beam1 = searchCaptions({ ...opts, strategy: 'beam', beamSize: 1, score: bigramScorer(tables, 7) });
      expect(beam1.tokens).toEqual(greedy.tokens);
      expect(beam1.logProbs).toEqual(greedy.logProbs);
    }
  });

  it('should prefer longer captions as the length penalty grows', () => {
    // BOS → 3 (0.6) → EOS (0.6) : short; BOS → 4 (0.4) → 5 (1) → 5 ... → EOS, each step ≈1
    const table = [
      [0, 0, 0.2, 0.2, 0.2, 0.4],
      [0, 0, 0, 0.6, 0.4, 0],
      [0, 0, 0.2, 0.2, 0.2, 0.4],
      [0, 0, 0.6, 0.1, 0.1, 0.2],
      [0, 0, 0.02, 0.01, 0.01, 0.96],
      [0, 0, 0.5, 0.01, 0.01, 0.48],
    ].map((r) => r.map((p) => p + 1e-9));
    const run = (lengthPenalty: number) =>
      searchCaptions({ ...base, count: 1, maxLength: 6, strategy: 'beam', beamSize: 4, lengthPenalty, score: bigramScorer([table], 6) })
        .tokens[0];
    expect(run(0)).toEqual([3]);
    expect(run(2).length).toBeGreaterThan(1);
  });

  it('should never emit banned tokens, EOS first or more than maxLength words', () => {
    const rng = new Rng(3);
    const tables = randomTables(rng, 3, 6);
    for (const strategy of ['greedy', 'beam'] as const) {
      const res = searchCaptions({ ...base, count: 3, maxLength: 4, strategy, score: bigramScorer(tables, 6) });
      for (const t of res.tokens) {
        expect(t.length).toBeGreaterThan(0);
        expect(t.length).toBeLessThanOrEqual(4);
        expect(t.some((v) => v === PAD || v === BOS || v === EOS)).toBe(false);
      }
    }
  });
});

describe('resolveDecodeOptions', () => {
  it('should fill in defaults', () => {
    expect(resolveDecodeOptions({}, { maxCaptionLength: 12 })).toEqual({
      strategy: 'greedy',
      beamSize: 3,
      lengthPenalty: 1,
      maxLength: 12,
    });
  });

  it('should reject bad options with a clear error', () => {
    const limits = { maxCaptionLength: 12 };
    expect(() => resolveDecodeOptions({ beamSize: 0 }, limits)).toThrow(/beamSize must be a positive integer/);
    expect(() => resolveDecodeOptions({ maxLength: 40 }, limits)).toThrow(/maxLength must be an integer from 1 to the model's maxCaptionLength \(12\)/);
    expect(() => resolveDecodeOptions({ strategy: 'sample' as never }, limits)).toThrow(InvalidInputError);
    expect(() => resolveDecodeOptions({ lengthPenalty: Number.NaN }, limits)).toThrow(/lengthPenalty/);
  });
});
