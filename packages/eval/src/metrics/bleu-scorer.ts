import { glibcExp, glibcPow } from './glibc-libm';
import type { NgramIndex } from './ngrams';

/** BLEU statistics summed over the corpus, as the reference prints them. */
export interface BleuStats {
  testlen: number;
  reflen: number;
  guess: number[];
  correct: number[];
}

export interface BleuResult {
  /** Corpus BLEU-1..n. */
  scores: number[];
  /** perImage[k][i]: BLEU-(k+1) of image i. */
  perImage: Float64Array[];
  stats: BleuStats;
}

const TINY = 1e-15;
const SMALL = 1e-9;

/**
 * BLEU-k from counts: cumulative product of clipped precisions, k-th root, brevity penalty, exactly as the
 * reference computes it — with glibc's `pow` and `exp` (what Python's `**` and `math.exp` run), reproduced bit
 * for bit, rather than V8's. `bleu ** 1.0` goes through `pow` too, as in the reference.
 */
function bleuFromCounts(correct: ArrayLike<number>, guess: ArrayLike<number>, testlen: number, reflen: number, n: number, out: number[]): void {
  let b = 1;
  for (let k = 0; k < n; k++) {
    b *= (correct[k] + TINY) / (guess[k] + SMALL);
    out[k] = glibcPow(b, 1 / (k + 1));
  }
  const ratio = (testlen + TINY) / (reflen + SMALL);
  if (ratio < 1) {
    const penalty = glibcExp(1 - 1 / ratio);
    for (let k = 0; k < n; k++) out[k] *= penalty;
  }
}

/** Corpus BLEU-1..n from summed statistics (what `BleuScorer.compute_score` returns as the corpus score). */
export function bleuFromStats(stats: BleuStats): number[] {
  const out: number[] = new Array(stats.guess.length);
  bleuFromCounts(stats.correct, stats.guess, stats.testlen, stats.reflen, stats.guess.length, out);
  return out;
}

/**
 * BLEU with the 'closest' reference length (ties to the shorter), clipped n-gram counts, corpus statistics and
 * per-image scores, as pycocoevalcap's `Bleu(4)`. `candidates[i]` and `references[i]` are sentence numbers in
 * `index`.
 */
export function computeBleu(index: NgramIndex, candidates: readonly number[], references: readonly (readonly number[])[], n = 4): BleuResult {
  const ids = index.ids;
  const counts = index.counts;
  const images = candidates.length;
  const perImage: Float64Array[] = [];
  for (let k = 0; k < n; k++) perImage.push(new Float64Array(images));
  const totalGuess = new Array<number>(n).fill(0);
  const totalCorrect = new Array<number>(n).fill(0);
  let totalTest = 0;
  let totalRef = 0;
  const guess = new Array<number>(n);
  const correct = new Array<number>(n);
  const scores = new Array<number>(n);
  for (let i = 0; i < images; i++) {
    const refs = references[i];
    const cand = candidates[i];
    const testlen = index.lengthOf(cand);
    // closest reference length, ties to the shorter
    let reflen = index.lengthOf(refs[0]);
    let bestDiff = Math.abs(reflen - testlen);
    for (let r = 1; r < refs.length; r++) {
      const l = index.lengthOf(refs[r]);
      const d = Math.abs(l - testlen);
      if (d < bestDiff || (d === bestDiff && l < reflen)) {
        bestDiff = d;
        reflen = l;
      }
    }
    for (let k = 0; k < n; k++) {
      guess[k] = Math.max(0, testlen - k);
      const end = index.start(cand, k + 2);
      let c = 0;
      for (let j = index.start(cand, k + 1); j < end; j++) {
        // clip by the largest count among the references (a short scan of each one's distinct n-grams)
        const id = ids[j];
        let max = 0;
        for (const ref of refs) {
          const rend = index.start(ref, k + 2);
          for (let r = index.start(ref, k + 1); r < rend; r++) {
            if (ids[r] === id) {
              if (counts[r] > max) max = counts[r];
              break;
            }
          }
        }
        c += Math.min(counts[j], max);
      }
      correct[k] = c;
      totalGuess[k] += guess[k];
      totalCorrect[k] += c;
    }
    totalTest += testlen;
    totalRef += reflen;
    bleuFromCounts(correct, guess, testlen, reflen, n, scores);
    for (let k = 0; k < n; k++) perImage[k][i] = scores[k];
  }
  const stats: BleuStats = { testlen: totalTest, reflen: totalRef, guess: totalGuess, correct: totalCorrect };
  return { scores: bleuFromStats(stats), perImage, stats };
}
