import { describe, expect, it } from 'vitest';
import { balancedSampler, gapFillingWeights, uniformSampler, weightedSampler } from './samplers';
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

describe('gapFillingWeights', () => {
  it('share 0 spreads the budget evenly', () => {
    expect(gapFillingWeights([5, 0, 9], 30, 0)).toEqual([10, 10, 10]);
  });

  it('share 1 raises the rarest items to a common level first', () => {
    // level 7: 7-0 + 7-4 = 10; the item at 9 gets nothing
    const w = gapFillingWeights([0, 4, 9], 10, 1);
    expect(w.map((x) => Number(x.toFixed(9)))).toEqual([7, 3, 0]);
    // a budget past every count evens out existing + synthetic exactly
    const full = gapFillingWeights([0, 4, 9], 30, 1);
    for (const [i, x] of full.entries()) expect(x + [0, 4, 9][i]!).toBeCloseTo(43 / 3, 9);
  });

  it('a partial share mixes both and always sums to the budget', () => {
    const w = gapFillingWeights([100, 100, 0, 0], 80, 0.5);
    expect(w).toEqual([10, 10, 30, 30]);
    expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(80, 9);
  });

  it('feeds the weighted sampler: held-out items get most draws', () => {
    const four = toConceptItems(['a', 'b', 'c', 'd']);
    const sampler = weightedSampler(four, { seed: 1, weights: gapFillingWeights([50, 50, 50, 0], 100, 1) }); // 12.5, 12.5, 12.5, 62.5
    const counts = new Map<string, number>();
    for (const [id] of draw(sampler, 400)) counts.set(id!, (counts.get(id!) ?? 0) + 1);
    const [a, d] = [four[0][0].id, four[3][0].id];
    expect(counts.get(d)!).toBeGreaterThan(3 * (counts.get(a) ?? 0));
  });

  it('rejects bad input with a clear error', () => {
    expect(() => gapFillingWeights([], 10, 1)).toThrow(/at least one item/);
    expect(() => gapFillingWeights([1, -1], 10, 1)).toThrow(/existing count -1 of item 1/);
    expect(() => gapFillingWeights([1], 0, 1)).toThrow(/budget must be a positive number/);
    expect(() => gapFillingWeights([1], 10, 2)).toThrow(/share must be in \[0, 1\]/);
  });
});
