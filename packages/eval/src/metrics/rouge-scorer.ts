import type { NgramIndex } from './ngrams';
import { numpyMean } from './numpy-sum';

const BETA2 = 1.2 * 1.2;

/** Length of the longest common subsequence of two id sequences. */
export function lcsLength(words: Int32Array, a: number, aLen: number, b: number, m: number, row: Int32Array): number {
  // row has length ≥ m + 1; classic DP with one rolling row
  for (let j = 0; j <= m; j++) row[j] = 0;
  for (let i = 0; i < aLen; i++) {
    const ai = words[a + i];
    let diag = 0; // row[j-1] of the previous i
    for (let j = 1; j <= m; j++) {
      const up = row[j];
      if (ai === words[b + j - 1]) row[j] = diag + 1;
      else if (row[j - 1] > up) row[j] = row[j - 1];
      diag = up;
    }
  }
  return row[m];
}

/**
 * ROUGE-L (β = 1.2) as pycocoevalcap's `Rouge`: tokens split on single spaces (the index's word lists), max
 * precision and max recall over references taken independently, corpus score = mean of per-image F.
 */
export function computeRougeL(index: NgramIndex, candidates: readonly number[], references: readonly (readonly number[])[]): { score: number; perImage: Float64Array } {
  const perImage = new Float64Array(candidates.length);
  const words = index.wordIds;
  let row = new Int32Array(64);
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i];
    const cs = index.wordStart(c);
    const cl = index.wordStart(c + 1) - cs;
    if (row.length < cl + 1) row = new Int32Array(cl * 2 + 1);
    let precMax = 0;
    let recMax = 0;
    for (const r of references[i]) {
      const rs = index.wordStart(r);
      const rl = index.wordStart(r + 1) - rs;
      const lcs = lcsLength(words, rs, rl, cs, cl, row);
      const prec = lcs / cl;
      const rec = lcs / rl;
      if (prec > precMax) precMax = prec;
      if (rec > recMax) recMax = rec;
    }
    perImage[i] = precMax !== 0 && recMax !== 0 ? ((1 + BETA2) * precMax * recMax) / (recMax + BETA2 * precMax) : 0;
  }
  return { score: numpyMean(perImage), perImage };
}
