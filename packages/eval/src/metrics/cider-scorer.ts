import type { NgramIndex } from './ngrams';
import { numpyMean } from './numpy-sum';

/**
 * CIDEr-D as pycocoevalcap's `Cider` (n = 4, σ = 6): document frequencies from the references only, ref_len =
 * log(#images), clipped similarity `min(vh, vr)·vr`, Gaussian length penalty on bigram counts, ×10, and the corpus
 * score is the mean over images. Sums run in the reference's dict order so that results agree to ~1e-15.
 */
export function computeCider(
  index: NgramIndex,
  candidates: readonly number[],
  references: readonly (readonly number[])[],
  options: { n?: number; sigma?: number } = {},
): { score: number; perImage: Float64Array } {
  const n = options.n ?? 4;
  const sigma = options.sigma ?? 6;
  const size = index.size;
  const ids = index.ids;
  const counts = index.counts;
  const images = candidates.length;
  // document frequency: number of images whose reference set contains the n-gram
  const df = new Int32Array(size);
  const seen = new Int32Array(size).fill(-1);
  for (let i = 0; i < images; i++) {
    for (const ref of references[i]) {
      const end = index.start(ref, n + 1);
      for (let j = index.start(ref, 1); j < end; j++) {
        const id = ids[j];
        if (seen[id] !== i) {
          seen[id] = i;
          df[id]++;
        }
      }
    }
  }
  const refLen = Math.log(images);
  // log(max(1, df)) for each distinct df value, computed once (df = 0 or 1 gives log 1 = 0)
  const logDf = new Float64Array(images + 1).fill(NaN);
  logDf[0] = 0;
  logDf[1] = 0;
  const weight = new Float64Array(size);
  for (let id = 0; id < size; id++) {
    const d = df[id];
    let l = logDf[d];
    if (l !== l) l = logDf[d] = Math.log(d);
    weight[id] = refLen - l;
  }

  // vector values of every stored n-gram occurrence (tf · idf), norms per sentence and order
  const values = new Float64Array(index.start(index.sentences - 1, n + 1));
  const vectorOf = (s: number, norms: Float64Array): number => {
    let length = 0;
    for (let k = 1; k <= n; k++) {
      const end = index.start(s, k + 1);
      let norm = 0;
      for (let j = index.start(s, k); j < end; j++) {
        const x = counts[j] * weight[ids[j]];
        values[j] = x;
        norm += x * x;
        if (k === 2) length += counts[j];
      }
      norms[k - 1] = Math.sqrt(norm);
    }
    return length;
  };

  const twoSigma2 = 2 * sigma * sigma;
  const perImage = new Float64Array(images);
  const score = new Float64Array(n);
  const hypNorms = new Float64Array(n);
  const refNorms = new Float64Array(n);
  for (let i = 0; i < images; i++) {
    const hyp = candidates[i];
    const hypLength = vectorOf(hyp, hypNorms);
    score.fill(0);
    const refs = references[i];
    for (const ref of refs) {
      const refLength = vectorOf(ref, refNorms);
      const delta = hypLength - refLength;
      const penalty = Math.E ** (-(delta * delta) / twoSigma2);
      for (let k = 1; k <= n; k++) {
        const hend = index.start(hyp, k + 1);
        const rstart = index.start(ref, k);
        const rend = index.start(ref, k + 1);
        let s = 0;
        for (let j = index.start(hyp, k); j < hend; j++) {
          // the reference's value of this n-gram: a short scan of its (distinct) n-grams of this order
          const id = ids[j];
          let vr = 0;
          for (let r = rstart; r < rend; r++) {
            if (ids[r] === id) {
              vr = values[r];
              break;
            }
          }
          const vh = values[j];
          s += (vh < vr ? vh : vr) * vr;
        }
        if (hypNorms[k - 1] !== 0 && refNorms[k - 1] !== 0) s /= hypNorms[k - 1] * refNorms[k - 1];
        score[k - 1] += s * penalty;
      }
    }
    let mean = numpyMean(score);
    mean /= refs.length;
    mean *= 10;
    perImage[i] = mean;
  }
  return { score: numpyMean(perImage), perImage };
}
