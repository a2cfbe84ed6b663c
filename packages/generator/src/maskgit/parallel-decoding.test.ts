import { describe, expect, it } from 'vitest';
import { Rng } from '@synth2/core';
import { initialDecodingState, parallelDecodingStep } from './parallel-decoding';
import { decodingPlan } from './mask-schedule';

function peakedProbs(B: number, P: number, G: number, K: number, target: (b: number, p: number, s: number) => number) {
  const l = new Float32Array(B * P * G * K);
  for (let b = 0; b < B; b++)
    for (let p = 0; p < P; p++) for (let s = 0; s < G; s++) l[((b * P + p) * G + s) * K + target(b, p, s)] = 1;
  return l;
}

describe('parallelDecodingStep', () => {
  it('should unmask positions following the plan and end with every token decided', () => {
    const B = 3, P = 16, G = 4, K = 8;
    const state = initialDecodingState(B, P, G, K);
    const target = (b: number, p: number, s: number) => (b + p + s) % K;
    const rng = new Rng(3);
    for (const after of decodingPlan(8, P)) {
      parallelDecodingStep(state, peakedProbs(B, P, G, K, target), { greedy: false, choiceTemperature: 1, maskedAfter: after }, rng);
      for (let b = 0; b < B; b++) {
        let masked = 0;
        for (let p = 0; p < P; p++) masked += state.masked[b * P + p];
        expect(masked).toBe(after);
      }
    }
    for (let b = 0; b < B; b++) for (let p = 0; p < P; p++) for (let s = 0; s < G; s++) expect(state.ids[(b * P + p) * G + s]).toBe(target(b, p, s));
  });

  it('should keep the most confident positions first when no noise is added', () => {
    const B = 1, P = 4, G = 1, K = 4;
    const state = initialDecodingState(B, P, G, K);
    const logits = new Float32Array(P * K);
    // position 2 is the most peaked, then 0
    logits.set([0.9, 0.1 / 3, 0.1 / 3, 0.1 / 3], 0);
    logits.set([0.4, 0.2, 0.2, 0.2], 4);
    logits.set([0.01, 0.01, 0.97, 0.01], 8);
    logits.set([0.2, 0.4, 0.2, 0.2], 12);
    parallelDecodingStep(state, logits, { greedy: true, choiceTemperature: 0, maskedAfter: 2 }, new Rng(0));
    expect(Array.from(state.masked)).toEqual([0, 1, 0, 1]);
    expect(state.ids[2]).toBe(2);
    expect(state.ids[0]).toBe(0);
    expect(state.ids[1]).toBe(K); // still the mask id
  });

  it('should be reproducible for a seed', () => {
    const B = 2, P = 8, G = 4, K = 16;
    const logits = new Float32Array(B * P * G * K).map((_, i) => 1 + Math.sin(i));
    const run = (seed: number) => {
      const s = initialDecodingState(B, P, G, K);
      parallelDecodingStep(s, logits, { greedy: false, choiceTemperature: 1, maskedAfter: 0 }, new Rng(seed));
      return Array.from(s.ids);
    };
    expect(run(5)).toEqual(run(5));
    expect(run(5)).not.toEqual(run(6));
  });
});
