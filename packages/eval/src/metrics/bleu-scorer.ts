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
  /** perImage[k][i]: BLEU-(k+1) of image i (computed from the per-image counts on first access). */
  readonly perImage: Float64Array[];
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
  // per image: testlen, reflen, guess[0..n), correct[0..n)
  const stride = 2 + 2 * n;
  const imageCounts = new Float64Array(images * stride);
  const totalGuess = new Array<number>(n).fill(0);
  const totalCorrect = new Array<number>(n).fill(0);
  let totalTest = 0;
  let totalRef = 0;
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
    const at = i * stride;
    imageCounts[at] = testlen;
    imageCounts[at + 1] = reflen;
    for (let k = 0; k < n; k++) {
      const guess = Math.max(0, testlen - k);
      const c = clippedMatches(index, ids, counts, cand, refs, k + 1);
      imageCounts[at + 2 + k] = guess;
      imageCounts[at + 2 + n + k] = c;
      totalGuess[k] += guess;
      totalCorrect[k] += c;
    }
    totalTest += testlen;
    totalRef += reflen;
  }
  const stats: BleuStats = { testlen: totalTest, reflen: totalRef, guess: totalGuess, correct: totalCorrect };
  let perImage: Float64Array[] | undefined;
  return {
    scores: bleuFromStats(stats),
    stats,
    get perImage() {
      return (perImage ??= perImageBleu(imageCounts, images, n));
    },
  };
}

/** Matches of a candidate's order-`k` n-grams, each clipped by its largest count among the references. */
function clippedMatches(index: NgramIndex, ids: Int32Array, counts: Int32Array, cand: number, refs: readonly number[], k: number): number {
  const end = index.start(cand, k + 1);
  let c = 0;
  for (let j = index.start(cand, k); j < end; j++) {
    // the largest count among the references: a short scan of each one's distinct n-grams
    const id = ids[j];
    let max = 0;
    for (const ref of refs) {
      const rend = index.start(ref, k + 1);
      for (let r = index.start(ref, k); r < rend; r++) {
        if (ids[r] === id) {
          if (counts[r] > max) max = counts[r];
          break;
        }
      }
    }
    c += Math.min(counts[j], max);
  }
  return c;
}

/** Per-image BLEU-1..n from the per-image counts (`computeBleu`'s layout). */
function perImageBleu(imageCounts: Float64Array, images: number, n: number): Float64Array[] {
  const stride = 2 + 2 * n;
  const perImage: Float64Array[] = [];
  for (let k = 0; k < n; k++) perImage.push(new Float64Array(images));
  const scores = new Array<number>(n);
  for (let i = 0; i < images; i++) {
    const at = i * stride;
    const guess = imageCounts.subarray(at + 2, at + 2 + n);
    const correct = imageCounts.subarray(at + 2 + n, at + 2 + 2 * n);
    bleuFromCounts(correct, guess, imageCounts[at], imageCounts[at + 1], n, scores);
    for (let k = 0; k < n; k++) perImage[k][i] = scores[k];
  }
  return perImage;
}
