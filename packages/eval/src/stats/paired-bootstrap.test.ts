import { describe, expect, it } from 'vitest';
import { InvalidInputError, Rng } from '@synth2/core';
import { pairedBootstrap } from './paired-bootstrap';

describe('pairedBootstrap', () => {
  it('should give the exact ratio and difference and intervals that contain them', () => {
    const rng = new Rng(1);
    const a = Array.from({ length: 200 }, () => rng.uniform(0, 2));
    const b = a.map((x) => x * 1.2 + rng.normal(0, 0.2));
    const r = pairedBootstrap(a, b, { samples: 1000, seed: 3 });
    const mean = (x: number[]) => x.reduce((s, v) => s + v, 0) / x.length;
    expect(r.n).toBe(200);
    expect(r.ratio).toBeCloseTo(mean(b) / mean(a), 12);
    expect(r.difference).toBeCloseTo(mean(b) - mean(a), 12);
    expect(r.ratioInterval[0]).toBeLessThan(r.ratio);
    expect(r.ratioInterval[1]).toBeGreaterThan(r.ratio);
    expect(r.differenceInterval[0]).toBeLessThan(r.difference);
    // a clear, consistent gain: the whole interval is above 1 and nearly every resample agrees
    expect(r.ratioInterval[0]).toBeGreaterThan(1.1);
    expect(r.shareBetter).toBeGreaterThan(0.99);
  });

  it('should give a wide interval around 1 when the systems only differ by noise, and narrow with more images', () => {
    const rng = new Rng(2);
    const make = (n: number) => {
      const a = Array.from({ length: n }, () => rng.uniform(0, 2));
      return { a, b: a.map((x) => Math.max(0, x + rng.normal(0, 0.5))) };
    };
    const small = make(50);
    const large = make(2000);
    const rs = pairedBootstrap(small.a, small.b, { seed: 1 });
    const rl = pairedBootstrap(large.a, large.b, { seed: 1 });
    expect(rs.ratioInterval[0]).toBeLessThan(1);
    expect(rs.ratioInterval[1]).toBeGreaterThan(1);
    expect(rl.ratioInterval[1] - rl.ratioInterval[0]).toBeLessThan((rs.ratioInterval[1] - rs.ratioInterval[0]) / 3);
    expect(rs.shareBetter).toBeGreaterThan(0.05);
    expect(rs.shareBetter).toBeLessThan(0.95);
  });

  it('should be reproducible for a seed and differ for another', () => {
    const a = [0.1, 0.5, 0.9, 1.3, 0.2, 0.7];
    const b = [0.3, 0.4, 1.1, 1.0, 0.6, 0.9];
    expect(pairedBootstrap(a, b, { seed: 5 })).toEqual(pairedBootstrap(a, b, { seed: 5 }));
    expect(pairedBootstrap(a, b, { seed: 5 }).ratioInterval).not.toEqual(pairedBootstrap(a, b, { seed: 6 }).ratioInterval);
  });

  it('should reject misaligned, empty or non-finite scores and bad options', () => {
    expect(() => pairedBootstrap([1, 2], [1])).toThrow(InvalidInputError);
    expect(() => pairedBootstrap([1, 2], [1])).toThrow(/same length/);
    expect(() => pairedBootstrap([], [])).toThrow(/non-empty/);
    expect(() => pairedBootstrap([1, NaN], [1, 2])).toThrow(/score 1 is not a finite number/);
    expect(() => pairedBootstrap([1], [1], { level: 1 })).toThrow(/level/);
    expect(() => pairedBootstrap([1], [1], { samples: 0 })).toThrow(/samples/);
  });
});
