import { pairedBootstrap, type PairedBootstrapOptions } from './paired-bootstrap';

/** A {@link pairedBootstrap} result as JSON can hold it (an unbounded interval end is `null`). */
export interface BootstrapSummary {
  ratioInterval: [number | null, number | null];
  differenceInterval: [number, number];
  shareBetter: number;
  level: number;
  samples: number;
}

/**
 * Paired bootstrap of a new system's per-image scores `b` against a baseline's `a` (aligned by image), summarised
 * for a results file: `undefined` when there is nothing to compare (no scores, lengths that differ, or a baseline
 * scoring 0 everywhere, where no ratio exists); an interval end that is unbounded (resamples where the baseline
 * scores 0) is `null`. Defaults: 2,000 resamples, seed 0.
 */
export function pairedBootstrapSummary(
  a: readonly number[] | undefined,
  b: readonly number[] | undefined,
  options: PairedBootstrapOptions = {},
): BootstrapSummary | undefined {
  if (!a?.length || !b || b.length !== a.length || !a.some((x) => x > 0)) return undefined;
  const r = pairedBootstrap(a, b, { samples: 2000, ...options });
  const finite = (x: number) => (Number.isFinite(x) ? x : null);
  return {
    ratioInterval: [finite(r.ratioInterval[0]), finite(r.ratioInterval[1])],
    differenceInterval: r.differenceInterval,
    shareBetter: r.shareBetter,
    level: r.level,
    samples: r.samples,
  };
}
