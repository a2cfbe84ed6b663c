import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '@synth2/core';
import { initBackend, type BatchSource } from '@synth2/nn';
import { captionBatches, collateBatch, type CaptionBatch } from './caption-batches';

beforeAll(async () => {
  await initBackend({ log: () => undefined });
});

/** Next batch, with its ids tensor freed. */
function draw(source: BatchSource<CaptionBatch>, rng: Rng): CaptionBatch {
  const batch = source.next(rng);
  batch.ids?.dispose();
  return batch;
}

describe('captionBatches', () => {
  const table = (count: number, value: number) => ({ data: new Float32Array(count * 2).fill(value), count, positions: 1, dim: 2 });
  const special = { bos: 1, eos: 2, pad: 0 };

  it('should mix real and synthetic pairs at the ratio and draw every caption of an image over the epochs', () => {
    // 4 real images with 3 captions each (caption k of image i = [10 + 3i + k]); 5 synthetic pairs
    const real = { tokens: table(4, 1), captions: Array.from({ length: 4 }, (_, i) => [0, 1, 2].map((k) => Int32Array.from([10 + 3 * i + k]))) };
    const synthetic = { tokens: table(5, -1), captions: Array.from({ length: 5 }, (_, i) => [Int32Array.from([30 + i])]) };
    const source = captionBatches({ real, synthetic, mix: { real: 0.75, synthetic: 0.25 }, batchSize: 8, special, seed: 1 });
    const rng = new Rng(2);
    const seen = new Set<number>();
    for (let b = 0; b < 30; b++) {
      const batch = draw(source, rng);
      expect(batch.synthetic).toBe(2);
      // image tokens follow their source: real items are +1, synthetic −1
      const fromSynthetic = Array.from({ length: 8 }, (_, i) => batch.tokens[i * 2] < 0).filter(Boolean).length;
      expect(fromSynthetic).toBe(2);
      for (let i = 0; i < 8; i++) if (batch.input[i * batch.length + 1] < 30) seen.add(batch.input[i * batch.length + 1]);
    }
    expect(seen.size).toBe(12); // all 3 captions of all 4 images were used
  });

  it('should restore its position from saved state', () => {
    const real = { tokens: table(7, 1), captions: Array.from({ length: 7 }, (_, i) => [Int32Array.from([10 + i])]) };
    const a = captionBatches({ real, mix: { real: 1, synthetic: 0 }, batchSize: 3, special, seed: 4 });
    const rngA = new Rng(5);
    for (let i = 0; i < 4; i++) draw(a, rngA);
    const state = a.getState();
    const rngState = rngA.getState();
    const expected = Array.from(draw(a, rngA).input);
    const b = captionBatches({ real, mix: { real: 1, synthetic: 0 }, batchSize: 3, special, seed: 4 });
    b.setState(state);
    expect(Array.from(draw(b, Rng.fromState(rngState)).input)).toEqual(expected);
  });
});

describe('captionBatches with syntheticBatches', () => {
  const table = (count: number, value: number) => ({ data: new Float32Array(count * 2).fill(value), count, positions: 1, dim: 2 });
  const special = { bos: 1, eos: 2, pad: 0 };
  const real = { tokens: table(6, 1), captions: Array.from({ length: 6 }, (_, i) => [Int32Array.from([10 + i])]) };
  const synthetic = { tokens: table(5, -1), captions: Array.from({ length: 5 }, (_, i) => [Int32Array.from([30 + i])]) };
  const make = () => captionBatches({ real, synthetic, mix: { real: 0.5, synthetic: 0.5 }, batchSize: 4, special, seed: 3, syntheticBatches: 3 });

  it('should mix synthetic pairs into the first batches only, then draw human pairs alone', () => {
    const source = make();
    const rng = new Rng(1);
    const counts = Array.from({ length: 7 }, () => draw(source, rng).synthetic);
    expect(counts).toEqual([2, 2, 2, 0, 0, 0, 0]);
  });

  it('should resume in the same phase and position from saved state', () => {
    const a = make();
    const rngA = new Rng(7);
    for (let i = 0; i < 2; i++) draw(a, rngA);
    const state = structuredClone(a.getState());
    const rngState = rngA.getState();
    const expected = [0, 1, 2].map(() => {
      const batch = draw(a, rngA);
      return [batch.synthetic, ...batch.input];
    });
    const b = make();
    b.setState(state);
    const rngB = Rng.fromState(rngState);
    const got = [0, 1, 2].map(() => {
      const batch = draw(b, rngB);
      return [batch.synthetic, ...batch.input];
    });
    expect(got).toEqual(expected);
    expect(got.map((g) => g[0])).toEqual([2, 0, 0]); // crosses from the mixed phase to human pairs only
  });

  it('should reject a bad count even without synthetic pairs', () => {
    expect(() => captionBatches({ real, mix: { real: 1, synthetic: 0 }, batchSize: 4, special, syntheticBatches: -1 })).toThrow(/syntheticSteps must be a whole number/);
  });

  it('should reject a negative or fractional count', () => {
    expect(() => captionBatches({ real, synthetic, mix: { real: 0.5, synthetic: 0.5 }, batchSize: 4, special, syntheticBatches: -1 })).toThrow(/syntheticSteps must be a whole number/);
    expect(() => captionBatches({ real, synthetic, mix: { real: 0.5, synthetic: 0.5 }, batchSize: 4, special, syntheticBatches: 1.5 })).toThrow(/syntheticSteps must be a whole number/);
  });
});

describe('collateBatch', () => {
  it('should build teacher-forcing inputs, shifted targets and padding weights', () => {
    const tokens = { data: Float32Array.from([1, 2, 3, 4, 5, 6]), count: 3, positions: 1, dim: 2 };
    const special = { bos: 1, eos: 2, pad: 0 };
    const b = collateBatch(
      [
        { tokens, index: 2 },
        { tokens, index: 0 },
      ],
      [Int32Array.from([7, 8, 9]), Int32Array.from([5])],
      1,
      { positions: 1, dim: 2 },
      special,
    );
    expect(b.size).toBe(2);
    expect(Array.from(b.tokens)).toEqual([5, 6, 1, 2]);
    expect(b.length).toBe(4);
    expect(Array.from(b.input)).toEqual([1, 7, 8, 9, 1, 5, 0, 0]);
    expect(Array.from(b.target)).toEqual([7, 8, 9, 2, 5, 2, 0, 0]);
    expect(Array.from(b.weights)).toEqual([1, 1, 1, 1, 1, 1, 0, 0]);
    expect(b.targets).toBe(6);
    expect(b.synthetic).toBe(1);
  });
});
