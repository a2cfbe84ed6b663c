import { describe, expect, it } from 'vitest';
import { learningRateAt } from './schedule';

describe('learningRateAt', () => {
  it('should warm up linearly then follow a cosine down to lr·minLrRatio', () => {
    const s = { warmupSteps: 4, minLrRatio: 0.1 };
    expect([0, 1, 2, 3].map((i) => learningRateAt(i, 14, 1, s))).toEqual([0.25, 0.5, 0.75, 1]);
    expect(learningRateAt(4, 14, 1, s)).toBeCloseTo(1, 12);
    // halfway through the decay (steps 4..13): cos(π/2) → midpoint between 1 and 0.1
    expect(learningRateAt(4 + 4.5, 14, 1, s)).toBeCloseTo(0.55, 12);
    expect(learningRateAt(13, 14, 1, s)).toBeCloseTo(0.1, 12);
    expect(learningRateAt(100, 14, 1, s)).toBeCloseTo(0.1, 12);
  });

  it('should default to no warmup and a floor of 10%', () => {
    expect(learningRateAt(0, 10, 2e-3)).toBeCloseTo(2e-3, 15);
    expect(learningRateAt(9, 10, 2e-3)).toBeCloseTo(2e-4, 15);
  });
});
