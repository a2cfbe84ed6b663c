import type { Rng } from '@synth2/core';

/** MaskGIT's cosine schedule: the share of positions still masked at progress `r` ∈ [0, 1] (1 at 0, 0 at 1). */
export function cosineMaskRatio(r: number): number {
  const c = Math.min(1, Math.max(0, r));
  return Math.cos((Math.PI / 2) * c);
}

/**
 * Training mask count for a sequence of `n` positions: `r ~ U(0,1)`, `ceil(cos(πr/2)·n)`, at least 1.
 * Drawn from the given seeded `Rng`.
 */
export function sampleTrainingMaskCount(n: number, rng: Rng): number {
  const ratio = cosineMaskRatio(rng.uniform());
  return Math.min(n, Math.max(1, Math.ceil(ratio * n)));
}

/**
 * Positions still masked after each of `steps` parallel decoding steps over `n` positions (cosine schedule):
 * strictly decreasing, ending at 0, e.g. `[15, 14, 13, 11, 8, 6, 3, 0]` for 16 positions and 8 steps.
 * More steps than positions are capped at `n`.
 */
export function decodingPlan(steps: number, n: number): number[] {
  const s = Math.max(1, Math.min(Math.floor(steps), n));
  const plan: number[] = [];
  let before = n;
  for (let i = 0; i < s; i++) {
    const remainingSteps = s - 1 - i;
    const target = i === s - 1 ? 0 : Math.floor(cosineMaskRatio((i + 1) / s) * n);
    // decide at least one position now, and leave at least one for each later step
    const after = Math.max(Math.min(target, before - 1), remainingSteps);
    plan.push(after);
    before = after;
  }
  return plan;
}
