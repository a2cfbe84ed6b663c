import { describe, expect, it } from 'vitest';
import { Rng } from './rng';

describe('Rng', () => {
  it('should be deterministic for a seed and differ across seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const xs = Array.from({ length: 5 }, () => a.uniform());
    expect(Array.from({ length: 5 }, () => b.uniform())).toEqual(xs);
    expect(new Rng(43).uniform()).not.toBe(xs[0]);
    expect(new Rng('run-a').nextUint32()).toBe(new Rng('run-a').nextUint32());
  });

  it('should resume exactly from getState/setState (normal spare included)', () => {
    const r = new Rng(7);
    r.normal();
    const state = r.getState();
    const next = [r.normal(), r.uniform(), r.int(100)];
    const restored = Rng.fromState(JSON.parse(JSON.stringify(state)));
    expect([restored.normal(), restored.uniform(), restored.int(100)]).toEqual(next);
  });

  it('should give fork streams that are reproducible and independent of the parent', () => {
    const r = new Rng(1);
    const f1 = r.fork('data').uniform();
    expect(new Rng(1).fork('data').uniform()).toBe(f1);
    expect(r.fork('model').uniform()).not.toBe(f1);
    expect(r.uniform()).toBe(new Rng(1).uniform()); // forking does not advance the parent
  });

  it('should draw uniform, int and normal with the right statistics', () => {
    const r = new Rng(3);
    const n = 20000;
    let sum = 0;
    let sq = 0;
    let usum = 0;
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      sum += z;
      sq += z * z;
      const u = r.uniform();
      expect(u >= 0 && u < 1).toBe(true);
      usum += u;
      counts[r.int(4)]++;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.03);
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.05);
    expect(Math.abs(usum / n - 0.5)).toBeLessThan(0.01);
    for (const c of counts) expect(Math.abs(c / n - 0.25)).toBeLessThan(0.015);
  });

  it('should shuffle into a permutation and choose by weight', () => {
    const r = new Rng(5);
    expect(r.permutation(50).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    const hits = [0, 0, 0];
    for (let i = 0; i < 10000; i++) hits[r.weightedIndex([1, 0, 3])]++;
    expect(hits[1]).toBe(0);
    expect(Math.abs(hits[2] / 10000 - 0.75)).toBeLessThan(0.02);
    expect(new Set(r.sample(['a', 'b', 'c', 'd'], 4)).size).toBe(4);
  });

  it('should reject bad arguments', () => {
    const r = new Rng(0);
    expect(() => r.int(0)).toThrow(/empty range/);
    expect(() => r.choice([])).toThrow(/empty array/);
    expect(() => r.weightedIndex([0, 0])).toThrow(/sum to zero/);
    expect(() => r.weightedIndex([1, -1])).toThrow(/bad weight/);
    expect(() => r.sample([1], 2)).toThrow(/k=2 > 1/);
  });
});
