import { InvalidInputError } from '@synth2/core';

/** Share of each batch drawn from real (human) and synthetic pairs. Both ≥ 0, summing to 1. */
export interface MixRatio {
  real: number;
  synthetic: number;
}

/**
 * Checks a mixing ratio against the data given. Defaults: real only without synthetic data, half/half with it.
 * Throws `InvalidInputError` for negative or non-finite shares, shares that do not sum to 1, or a share > 0 for
 * a source that has no data.
 */
export function resolveMix(
  mix: Partial<MixRatio> | undefined,
  available: { real: number; synthetic: number },
): MixRatio {
  const resolved: MixRatio =
    mix === undefined
      ? available.synthetic > 0
        ? { real: 0.5, synthetic: 0.5 }
        : { real: 1, synthetic: 0 }
      : { real: mix.real ?? 0, synthetic: mix.synthetic ?? 0 };
  for (const key of ['real', 'synthetic'] as const) {
    const v = resolved[key];
    if (!Number.isFinite(v) || v < 0 || v > 1) {
      throw new InvalidInputError(`mix.${key} must be a number from 0 to 1, got ${v}.`, { field: `mix.${key}` });
    }
  }
  const sum = resolved.real + resolved.synthetic;
  if (Math.abs(sum - 1) > 1e-6) {
    throw new InvalidInputError(
      `mix.real + mix.synthetic must be 1 (the share of each batch from each source), got ${resolved.real} + ${resolved.synthetic} = ${sum}. ` +
        'For example { real: 0.5, synthetic: 0.5 }, or { real: 1, synthetic: 0 } for human pairs only.',
      { field: 'mix' },
    );
  }
  if (resolved.real > 0 && available.real === 0) {
    throw new InvalidInputError(
      `mix.real is ${resolved.real} but there are no real pairs. Pass real data, or use { real: 0, synthetic: 1 } for synthetic only.`,
      { field: 'real' },
    );
  }
  if (resolved.synthetic > 0 && available.synthetic === 0) {
    throw new InvalidInputError(
      `mix.synthetic is ${resolved.synthetic} but there are no synthetic pairs. Pass synthetic data, or use { real: 1, synthetic: 0 }.`,
      { field: 'synthetic' },
    );
  }
  return resolved;
}

/**
 * How many items of a batch come from each source: rounds `batchSize × share` and gives the remainder to the
 * larger share, so both sources with a share > 0 get at least one item when the batch allows it.
 */
export function splitBatch(batchSize: number, mix: MixRatio): { real: number; synthetic: number } {
  if (mix.synthetic === 0) return { real: batchSize, synthetic: 0 };
  if (mix.real === 0) return { real: 0, synthetic: batchSize };
  let real = Math.round(batchSize * mix.real);
  if (batchSize >= 2) real = Math.min(batchSize - 1, Math.max(1, real));
  return { real, synthetic: batchSize - real };
}
