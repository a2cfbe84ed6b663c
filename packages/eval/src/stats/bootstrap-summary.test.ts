import { describe, expect, it } from 'vitest';
import { pairedBootstrapSummary } from './bootstrap-summary';

describe('pairedBootstrapSummary', () => {
  it('should give a JSON-safe interval: none without a baseline score, null for an unbounded end', () => {
    expect(pairedBootstrapSummary([0, 0, 0], [1, 2, 3], { seed: 1 })).toBeUndefined();
    expect(pairedBootstrapSummary([1, 2], [1], { seed: 1 })).toBeUndefined();
    expect(pairedBootstrapSummary(undefined, [1], { seed: 1 })).toBeUndefined();
    // one image carries the whole baseline score: some resamples miss it and the ratio is unbounded above
    const r = pairedBootstrapSummary([3, 0, 0, 0], [1, 1, 1, 1], { seed: 1 })!;
    expect(r.ratioInterval[0]).toBeGreaterThan(0);
    expect(r.ratioInterval[1]).toBeNull();
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    const clear = pairedBootstrapSummary([1, 1.2, 0.8, 1, 0.9, 1.1], [1.5, 1.7, 1.3, 1.4, 1.4, 1.6], {
      seed: 1,
    })!;
    expect(clear.ratioInterval[0]).toBeGreaterThan(1.2);
    expect(clear.shareBetter).toBe(1);
    expect(clear.samples).toBe(2000);
  });

  it('should give the same summary for the same seed and another for another seed', () => {
    const a = [1, 2, 3, 4, 5, 0.5];
    const b = [1.2, 1.8, 3.5, 4.1, 6, 0.4];
    expect(pairedBootstrapSummary(a, b, { seed: 3 })).toEqual(pairedBootstrapSummary(a, b, { seed: 3 }));
    expect(pairedBootstrapSummary(a, b, { seed: 3 })).not.toEqual(pairedBootstrapSummary(a, b, { seed: 4 }));
  });
});
