import { describe, expect, it } from 'vitest';
import { Rng } from '@synth2/core';
import { maskBatch } from './masking';

const dims = { positions: 4, perPosition: 2, codebookSize: 10, captionLength: 3, nullWord: 50 };
const batch = {
  size: 200,
  words: new Int32Array(200 * 3).fill(7),
  wordMask: new Float32Array(200 * 3).fill(1),
  targets: new Int32Array(200 * 4 * 2).map((_, i) => i % 10),
};

describe('maskBatch', () => {
  it('should mask whole positions with the mask id, weight exactly those tokens, and leave targets untouched', () => {
    const m = maskBatch(batch, dims, 0, new Rng(0));
    for (let i = 0; i < m.inputs.length; i++) {
      if (m.weights[i] === 1) expect(m.inputs[i]).toBe(10);
      else expect(m.inputs[i]).toBe(batch.targets[i]);
    }
    for (let b = 0; b < 200; b++) {
      let masked = 0;
      for (let p = 0; p < 4; p++) {
        const a = m.weights[(b * 4 + p) * 2];
        expect(m.weights[(b * 4 + p) * 2 + 1]).toBe(a); // both tokens of a position together
        masked += a;
      }
      expect(masked).toBeGreaterThanOrEqual(1);
    }
    expect(batch.targets[0]).toBe(0);
  });

  it('should replace about the given share of captions by the single "no caption" token', () => {
    const m = maskBatch(batch, dims, 0.1, new Rng(1));
    let dropped = 0;
    for (let b = 0; b < 200; b++) {
      if (m.words[b * 3] === 50) {
        dropped++;
        expect(Array.from(m.wordMask.slice(b * 3, b * 3 + 3))).toEqual([1, 0, 0]);
      }
    }
    expect(dropped).toBeGreaterThan(8);
    expect(dropped).toBeLessThan(35);
  });

  it('should weight each masked target by the weight of its code when code weights are given', () => {
    const w = new Float32Array(10).map((_, k) => k + 1);
    const m = maskBatch(batch, dims, 0, new Rng(2), w);
    for (let i = 0; i < m.weights.length; i++) {
      if (m.inputs[i] === 10) expect(m.weights[i]).toBe(batch.targets[i] + 1);
      else expect(m.weights[i]).toBe(0);
    }
  });
});
