import { describe, expect, it } from 'vitest';
import { ciderBootstrap } from './pipeline';

describe('ciderBootstrap (results.json summary)', () => {
  it('should give a JSON-safe interval: none without a baseline score, null for an unbounded end', () => {
    expect(ciderBootstrap([0, 0, 0], [1, 2, 3], 1)).toBeUndefined();
    expect(ciderBootstrap([1, 2], [1], 1)).toBeUndefined();
    // one image carries the whole baseline score: some resamples miss it and the ratio is unbounded above
    const r = ciderBootstrap([3, 0, 0, 0], [1, 1, 1, 1], 1)!;
    expect(r.ratioInterval[0]).toBeGreaterThan(0);
    expect(r.ratioInterval[1]).toBeNull();
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    const clear = ciderBootstrap([1, 1.2, 0.8, 1, 0.9, 1.1], [1.5, 1.7, 1.3, 1.4, 1.4, 1.6], 1)!;
    expect(clear.ratioInterval[0]).toBeGreaterThan(1.2);
    expect(clear.shareBetter).toBe(1);
  });
});
