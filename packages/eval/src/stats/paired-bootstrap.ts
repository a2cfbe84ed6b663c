import { InvalidInputError, Rng } from '@synth2/core/internal';

/** Options of `pairedBootstrap`. */
export interface PairedBootstrapOptions {
  /** Bootstrap resamples (default 2,000). */
  samples?: number;
  /** Confidence level of the intervals (default 0.95). */
  level?: number;
  /** Seed of the resampling (default 0): the same inputs and seed give the same intervals. */
  seed?: number;
}

/** A paired bootstrap comparison of two systems' per-image scores: the ratio of means and its interval. */
export interface PairedBootstrap {
  /** Images compared. */
  n: number;
  /** mean(b) / mean(a) on the images given, and its percentile interval over resamples. */
  ratio: number;
  ratioInterval: [number, number];
  /** mean(b) − mean(a), and its percentile interval. */
  difference: number;
  differenceInterval: [number, number];
  /** Share of resamples in which b's mean is above a's. */
  shareBetter: number;
  samples: number;
  level: number;
}

function percentile(sorted: Float64Array, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Paired bootstrap over images of two systems' per-image scores (e.g. `evaluateCaptions(...).perImage.CIDEr` of a
 * baseline `a` and a new model `b`, aligned by image): resamples the images with replacement and reports the
 * ratio and difference of the mean scores with percentile intervals. It measures how much a comparison depends on
 * which test images were drawn — not the run-to-run noise of training, which needs several seeds. Per-image scores
 * are taken as given (for CIDEr-D the document frequencies stay those of the full reference set).
 */
export function pairedBootstrap(a: ArrayLike<number>, b: ArrayLike<number>, options: PairedBootstrapOptions = {}): PairedBootstrap {
  const n = a.length;
  if (n === 0 || b.length !== n) {
    throw new InvalidInputError(
      `pairedBootstrap needs two non-empty per-image score lists of the same length (got ${n} and ${b.length}); align both systems' scores by image id`,
    );
  }
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(a[i]) || !Number.isFinite(b[i])) {
      throw new InvalidInputError(`pairedBootstrap: score ${i} is not a finite number (a ${a[i]}, b ${b[i]})`);
    }
  }
  const samples = options.samples ?? 2000;
  const level = options.level ?? 0.95;
  if (!Number.isInteger(samples) || samples < 1) throw new InvalidInputError(`pairedBootstrap: samples must be a positive integer, got ${samples}`);
  if (!(level > 0 && level < 1)) throw new InvalidInputError(`pairedBootstrap: level must be in (0, 1), got ${level}`);
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < n; i++) {
    sa += a[i];
    sb += b[i];
  }
  const rng = new Rng(options.seed ?? 0);
  const ratios = new Float64Array(samples);
  const diffs = new Float64Array(samples);
  let better = 0;
  for (let s = 0; s < samples; s++) {
    let ra = 0;
    let rb = 0;
    for (let i = 0; i < n; i++) {
      const j = rng.int(n);
      ra += a[j];
      rb += b[j];
    }
    // a resample whose baseline mean is 0 has an unbounded ratio: count it as +∞ (or 1 when both are 0)
    ratios[s] = ra > 0 ? rb / ra : rb > 0 ? Infinity : 1;
    diffs[s] = (rb - ra) / n;
    if (rb > ra) better++;
  }
  ratios.sort();
  diffs.sort();
  const tail = (1 - level) / 2;
  return {
    n,
    ratio: sa > 0 ? sb / sa : sb > 0 ? Infinity : 1,
    ratioInterval: [percentile(ratios, tail), percentile(ratios, 1 - tail)],
    difference: (sb - sa) / n,
    differenceInterval: [percentile(diffs, tail), percentile(diffs, 1 - tail)],
    shareBetter: better / samples,
    samples,
    level,
  };
}
