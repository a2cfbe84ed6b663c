import type { Rng } from '@synth2/core';

/** State of a batch being decoded: grouped token ids `[B, P, G]` and which positions are still masked `[B, P]`. */
export interface DecodingState {
  batch: number;
  positions: number;
  perPosition: number;
  codebookSize: number;
  ids: Int32Array;
  masked: Uint8Array;
}

export function initialDecodingState(batch: number, positions: number, perPosition: number, codebookSize: number): DecodingState {
  return {
    batch,
    positions,
    perPosition,
    codebookSize,
    ids: new Int32Array(batch * positions * perPosition).fill(codebookSize), // the mask id
    masked: new Uint8Array(batch * positions).fill(1),
  };
}

function gumbel(rng: Rng): number {
  let u = 0;
  while (u === 0) u = rng.uniform();
  return -Math.log(-Math.log(u));
}

/**
 * One MaskGIT step in place. `probs` `[B, P, G, K]` are the (temperature-scaled) token probabilities. For every
 * masked position its `G` tokens are drawn (`greedy`: the most probable), the position is scored by the summed
 * log-probability of its draws plus Gumbel noise scaled by `choiceTemperature`, and the `maskedAfter` least
 * confident drawn positions are masked again. Randomness comes from `rng` in a fixed order (reproducible).
 */
export function parallelDecodingStep(
  state: DecodingState,
  probs: Float32Array,
  opts: { greedy: boolean; choiceTemperature: number; maskedAfter: number },
  rng: Rng,
): void {
  const { batch: B, positions: P, perPosition: G, codebookSize: K } = state;
  if (probs.length !== B * P * G * K) throw new RangeError(`probs have ${probs.length} values, expected ${B * P * G * K}`);
  const drawn = new Int32Array(P * G);
  const conf = new Float64Array(P);
  for (let b = 0; b < B; b++) {
    const cand: number[] = [];
    for (let p = 0; p < P; p++) {
      if (!state.masked[b * P + p]) continue;
      cand.push(p);
      let score = 0;
      for (let s = 0; s < G; s++) {
        const off = ((b * P + p) * G + s) * K;
        let pick = 0;
        if (opts.greedy) {
          let max = -Infinity;
          for (let k = 0; k < K; k++) {
            if (probs[off + k] > max) {
              max = probs[off + k];
              pick = k;
            }
          }
        } else {
          let total = 0;
          for (let k = 0; k < K; k++) total += probs[off + k];
          let r = rng.uniform() * total;
          pick = -1;
          for (let k = 0; k < K; k++) {
            r -= probs[off + k];
            if (r < 0) {
              pick = k;
              break;
            }
          }
          if (pick < 0) for (let k = K - 1; k >= 0; k--) if (probs[off + k] > 0) { pick = k; break; }
          if (pick < 0) pick = 0;
        }
        drawn[p * G + s] = pick;
        score += Math.log(Math.max(probs[off + pick], 1e-30));
      }
      conf[p] = score + (opts.choiceTemperature > 0 ? opts.choiceTemperature * gumbel(rng) : 0);
    }
    const keepMasked = Math.max(0, Math.min(opts.maskedAfter, cand.length - 1));
    // least confident first; ties broken by position for determinism
    cand.sort((x, y) => conf[x] - conf[y] || x - y);
    for (let i = keepMasked; i < cand.length; i++) {
      const p = cand[i];
      state.masked[b * P + p] = 0;
      for (let s = 0; s < G; s++) state.ids[(b * P + p) * G + s] = drawn[p * G + s];
    }
  }
}
