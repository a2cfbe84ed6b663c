import { describe, expect, it } from 'vitest';
import { Rng } from '@synth2/core';
import { cosineMaskRatio, decodingPlan, sampleTrainingMaskCount } from './mask-schedule';

describe('cosineMaskRatio', () => {
  it('should go from 1 at the start to 0 at the end, decreasing', () => {
    expect(cosineMaskRatio(0)).toBe(1);
    expect(cosineMaskRatio(1)).toBeCloseTo(0, 12);
    for (let i = 1; i <= 10; i++) expect(cosineMaskRatio(i / 10)).toBeLessThan(cosineMaskRatio((i - 1) / 10));
  });
});

describe('decodingPlan', () => {
  it('should follow the cosine schedule for 16 positions in 8 steps', () => {
    expect(decodingPlan(8, 16)).toEqual([15, 14, 13, 11, 8, 6, 3, 0]);
  });
  it('should decide at least one position per step and cap steps at the number of positions', () => {
    expect(decodingPlan(20, 4)).toEqual([3, 2, 1, 0]);
    expect(decodingPlan(1, 64)).toEqual([0]);
    const plan = decodingPlan(12, 16);
    for (let i = 1; i < plan.length; i++) expect(plan[i]).toBeLessThan(plan[i - 1]);
  });
});

describe('sampleTrainingMaskCount', () => {
  it('should mask between 1 and n positions with more than half masked on average (cosine)', () => {
    const rng = new Rng(1);
    let sum = 0;
    for (let i = 0; i < 2000; i++) {
      const m = sampleTrainingMaskCount(16, rng);
      expect(m).toBeGreaterThanOrEqual(1);
      expect(m).toBeLessThanOrEqual(16);
      sum += m;
    }
    // E[cos(πr/2)] = 2/π ≈ 0.64
    expect(sum / 2000 / 16).toBeGreaterThan(0.6);
    expect(sum / 2000 / 16).toBeLessThan(0.72);
  });
});
