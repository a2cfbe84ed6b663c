import { numpyMean } from './numpy-sum';

const BETA2 = 1.2 * 1.2;

/** Length of the longest common subsequence of two id sequences. */
export function lcsLength(a: Int32Array, b: Int32Array, row: Int32Array): number {
  // row has length ≥ b.length + 1; classic DP with one rolling row
  const m = b.length;
  for (let j = 0; j <= m; j++) row[j] = 0;
  for (let i = 0; i < a.length; i++) {
    const ai = a[i];
    let diag = 0; // row[j-1] of the previous i
    for (let j = 1; j <= m; j++) {
      const up = row[j];
      if (ai === b[j - 1]) row[j] = diag + 1;
      else if (row[j - 1] > up) row[j] = row[j - 1];
      diag = up;
    }
  }
  return row[m];
}

/**
 * ROUGE-L (β = 1.2) as pycocoevalcap's `Rouge`: tokens split on single spaces, max precision and max recall over
 * references taken independently, corpus score = mean of per-image F.
 */
export function computeRougeL(candidates: readonly string[], references: readonly (readonly string[])[]): { score: number; perImage: Float64Array } {
  const vocab = new Map<string, number>();
  const encode = (s: string): Int32Array => {
    const parts = s.split(' ');
    const out = new Int32Array(parts.length);
    for (let i = 0; i < parts.length; i++) {
      let id = vocab.get(parts[i]);
      if (id === undefined) {
        id = vocab.size;
        vocab.set(parts[i], id);
      }
      out[i] = id;
    }
    return out;
  };
  const perImage = new Float64Array(candidates.length);
  let row = new Int32Array(64);
  for (let i = 0; i < candidates.length; i++) {
    const c = encode(candidates[i]);
    let precMax = 0;
    let recMax = 0;
    for (const refText of references[i]) {
      const r = encode(refText);
      if (row.length < c.length + 1) row = new Int32Array(c.length * 2 + 1);
      const lcs = lcsLength(r, c, row);
      const prec = lcs / c.length;
      const rec = lcs / r.length;
      if (prec > precMax) precMax = prec;
      if (rec > recMax) recMax = rec;
    }
    perImage[i] = precMax !== 0 && recMax !== 0 ? ((1 + BETA2) * precMax * recMax) / (recMax + BETA2 * precMax) : 0;
  }
  return { score: numpyMean(perImage), perImage };
}
