import { describe, expect, it } from 'vitest';
import { balancedSampler, uniformSampler, weightedSampler } from './samplers';
import { toConceptItems } from './concept-list';

const items = toConceptItems(['a', 'b', 'c', 'd', 'e', 'f']);
const draw = (sampler: { next(): { id: string }[] }, n: number) => Array.from({ length: n }, () => sampler.next().map((c) => c.id));

describe('balancedSampler', () => {
  it('should use every concept equally often and never twice in one caption', () => {
    const picks = draw(balancedSampler(items, { k: 2, seed: 1 }), 300);
    const counts = new Map<string, number>();
    for (const p of picks) {
      expect(new Set(p).size).toBe(2);
      for (const id of p) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    expect([...counts.values()]).toEqual([100, 100, 100, 100, 100, 100]);
  });
  it('should stay within ±1 of balanced when k does not divide the count', () => {
    const picks = draw(balancedSampler(items, { k: 4, seed: 2 }), 50).flat();
    const counts = items.map((g) => picks.filter((id) => id === g[0].id).length);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(2);
  });
});

describe('uniformSampler', () => {
  it('should be reproducible from its seed and roughly uniform', () => {
    expect(draw(uniformSampler(items, { seed: 3 }), 50)).toEqual(draw(uniformSampler(items, { seed: 3 }), 50));
    expect(draw(uniformSampler(items, { seed: 3 }), 50)).not.toEqual(draw(uniformSampler(items, { seed: 4 }), 50));
    const picks = draw(uniformSampler(items, { seed: 5 }), 6000).flat();
    for (const g of items) expect(Math.abs(picks.filter((id) => id === g[0].id).length - 1000)).toBeLessThan(150);
  });
});

describe('weightedSampler', () => {
  it('should draw in proportion to the weights, skipping zero weights', () => {
    const picks = draw(weightedSampler(items, { seed: 6, weights: [6, 3, 1, 0, 0, 0] }), 5000).flat();
    const share = (id: string) => picks.filter((p) => p === id).length / picks.length;
    expect(share('a')).toBeCloseTo(0.6, 1);
    expect(share('b')).toBeCloseTo(0.3, 1);
    expect(share('d')).toBe(0);
  });
  it('should use the concepts’ own weight by default', () => {
    const weighted = toConceptItems([{ id: 'x', name: 'x', weight: 9 }, { id: 'y', name: 'y', weight: 1 }]);
    const picks = draw(weightedSampler(weighted, { seed: 7 }), 2000).flat();
    expect(picks.filter((p) => p === 'x').length / 2000).toBeCloseTo(0.9, 1);
  });
  it('should reject negative weights and too few positive ones', () => {
    expect(() => weightedSampler(items, { weights: [1, -1, 1, 1, 1, 1] })).toThrow(/weight -1 of concept 1/);
    expect(() => weightedSampler(items, { k: 2, weights: [1, 0, 0, 0, 0, 0] })).toThrow(/only 1 concept\(s\) have a weight above 0/);
  });
});
