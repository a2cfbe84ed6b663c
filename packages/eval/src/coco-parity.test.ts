import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluateCaptions, type CaptionEvaluation, type ScoreName } from './evaluate-captions';
import { splitCaptionPairs } from './io/coco-files';
import { cocoEvalDir, readJsonMaybeGz } from './test-helpers';

interface Expected {
  eval: Record<string, number>;
  per_image: Record<string, number[]>;
  image_ids: (string | number)[];
  res_tokenized: string[];
  gts_tokenized?: string[][];
}

const dir = cocoEvalDir();

/** Compares with the official output: BLEU, ROUGE-L exact (corpus and every per-image value); CIDEr within 1e-12. */
function expectParity(got: CaptionEvaluation, expected: Expected): void {
  expect(got.imageIds).toEqual(expected.image_ids);
  expect(got.tokenized.predictions).toEqual(expected.res_tokenized);
  if (expected.gts_tokenized) expect(got.tokenized.references).toEqual(expected.gts_tokenized);
  for (const name of ['Bleu_1', 'Bleu_2', 'Bleu_3', 'Bleu_4', 'ROUGE_L'] as ScoreName[]) {
    expect(got.metrics[name], name).toBe(expected.eval[name]);
  }
  expect(Math.abs(got.metrics.CIDEr! - expected.eval.CIDEr)).toBeLessThanOrEqual(1e-12);
  for (const name of ['Bleu_1', 'Bleu_2', 'Bleu_3', 'Bleu_4', 'ROUGE_L'] as ScoreName[]) expect(got.perImage[name], name).toEqual(expected.per_image[name]);
  const cider = got.perImage.CIDEr!;
  expected.per_image.CIDEr.forEach((v, i) => expect(Math.abs(cider[i] - v)).toBeLessThanOrEqual(1e-12));
}

describe.skipIf(!dir)('evaluateCaptions parity with the official pycocoevalcap', () => {
  it('should reproduce the official MAGIC results (tokens, BLEU, ROUGE-L, CIDEr, per image, totals)', async () => {
    const { references, predictions } = splitCaptionPairs(readJsonMaybeGz(join(dir!, 'magic_mscoco_karpathy_test_magic_result.json.gz')));
    const expected = readJsonMaybeGz<Expected>(join(dir!, 'expected', 'magic_mscoco.official_bleu_rouge_cider.json.gz'));
    const got = await evaluateCaptions({ references, predictions });
    expectParity(got, expected);
    expect(got.bleuStats).toEqual({ testlen: 47153, reflen: 47168, guess: [47153, 42171, 37189, 32207], correct: [26801, 9496, 2857, 902] });
  });

  it('should reproduce the official val2017 results of the weak model against the COCO annotations', async () => {
    const references = readJsonMaybeGz<{ annotations: { image_id: number; caption: string }[] }>(join(dir!, 'coco_captions_val2017.json.gz'));
    const predictions = readJsonMaybeGz<{ image_id: number; caption: string }[]>(join(dir!, 'val2017_weak_model_results.json'));
    const expected = readJsonMaybeGz<Expected>(join(dir!, 'expected', 'val2017_fakecap.official_bleu_rouge_cider.json.gz'));
    const got = await evaluateCaptions({ references, predictions });
    expectParity(got, expected);
    expect(got.bleuStats!.guess[0]).toBe(got.bleuStats!.testlen);
  });

  // sha256 of the official PTBTokenizer 3.4.1 output (after the COCO punctuation filter), one caption per line:
  // references in file order, then predictions. ZeroCap's predictions hold 113 `<|endoftext|>` markers.
  it.each([
    ['ZeroCap', 'magic_mscoco_karpathy_test_zerocap_result.json.gz', 5000, 'bcfe863b96dba04efc8ee162e9f1c0bde98b8c1f71c707fb5196ed23c60e1796', '18bab2a5f1ee21dd1daf7cc89a6368426d4962ebe20e8beda7f6eb23b4eb5c59'],
    ['CLIPRe', 'magic_mscoco_karpathy_test_clipretrieval_result.json.gz', 4982, '130b1a0249a30d0c7f7a153ffa9b505e2ba650f645afbdc3a9f461cc8a294e68', '508f5d67e8e9e0d6ea4630695fa2833cfac58a58e8510eec409bf200c39f40c8'],
  ])('should tokenize the %s file as the official tokenizer does and score it consistently', async (_name, file, images, refsSha, predsSha) => {
    const items = readJsonMaybeGz<{ captions: string[]; prediction: string }[]>(join(dir!, file));
    const { references, predictions } = splitCaptionPairs(items);
    const got = await evaluateCaptions({ references, predictions });
    expect(got.imageIds).toHaveLength(images);
    const sha = (lines: string[]): string => createHash('sha256').update(lines.join('\n')).digest('hex');
    expect(sha(got.tokenized.references.flat())).toBe(refsSha);
    expect(sha(got.tokenized.predictions)).toBe(predsSha);
    const s = got.bleuStats!;
    // guess[k] = Σ max(0, testlen_i − k): short predictions (under 4 tokens) make guess[3] exceed testlen − 3·images
    expect(s.guess[0]).toBe(s.testlen);
    for (let k = 1; k < 4; k++) expect(s.guess[k]).toBeGreaterThanOrEqual(s.testlen - k * images);
    for (const v of Object.values(got.metrics)) expect(Number.isFinite(v)).toBe(true);
    for (const name of ['Bleu_1', 'ROUGE_L', 'CIDEr'] as ScoreName[]) {
      expect(got.perImage[name]).toHaveLength(images);
      expect(got.perImage[name]!.every((x) => Number.isFinite(x) && x >= 0)).toBe(true);
    }
    // the same data given as plain maps gives the same numbers
    const asMaps = await evaluateCaptions({
      references: Object.fromEntries(items.map((it, i) => [`img-${i}`, it.captions])),
      predictions: Object.fromEntries(items.map((it, i) => [`img-${i}`, it.prediction])),
    });
    expect(asMaps.metrics).toEqual(got.metrics);
  });
});
