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
 * One MaskGIT step in place: for every masked position draw its `G` tokens from `logits` `[B, P, G, K]`
 * (temperature 0 = argmax), score it by the summed log-probability of its draws plus Gumbel noise scaled by
 * `choiceTemperature`, then keep the best and re-mask the `maskedAfter` least confident of the drawn positions.
 * Randomness comes from `rng` in a fixed order, so results are reproducible for a seed.
 */
export function parallelDecodingStep(
  state: DecodingState,
  logits: Float32Array,
  opts: { temperature: number; choiceTemperature: number; maskedAfter: number },
  rng: Rng,
): void {
  const { batch: B, positions: P, perPosition: G, codebookSize: K } = state;
  if (logits.length !== B * P * G * K) throw new RangeError(`logits have ${logits.length} values, expected ${B * P * G * K}`);
  const t = opts.temperature;
  const probs = new Float64Array(K);
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
        let max = -Infinity;
        let arg = 0;
        for (let k = 0; k < K; k++) {
          const v = logits[off + k];
          if (v > max) {
            max = v;
            arg = k;
          }
        }
        let pick: number;
        let logp: number;
        if (t <= 0) {
          let z = 0;
          for (let k = 0; k < K; k++) z += Math.exp(logits[off + k] - max);
          pick = arg;
          logp = -Math.log(z);
        } else {
          let z = 0;
          for (let k = 0; k < K; k++) {
            const e = Math.exp((logits[off + k] - max) / t);
            probs[k] = e;
            z += e;
          }
          let r = rng.uniform() * z;
          pick = K - 1;
          for (let k = 0; k < K; k++) {
            r -= probs[k];
            if (r < 0) {
              pick = k;
              break;
            }
          }
          logp = Math.log(probs[pick] / z);
        }
        drawn[p * G + s] = pick;
        score += logp;
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
