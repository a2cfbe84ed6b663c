import { describe, expect, it } from 'vitest';
import { regroupEmbeddings } from './regroup';

describe('regroupEmbeddings', () => {
  it('should concatenate each 2×2 block of a 4×4 grid into one token, losslessly', () => {
    // one image, 4×4 grid, d = 1, value = y·4 + x
    const data = Float32Array.from({ length: 16 }, (_, i) => i);
    const out = regroupEmbeddings(data, 1, [4, 4], 1, 2);
    expect(Array.from(out)).toEqual([0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15]);
    expect([...out].sort((a, b) => a - b)).toEqual(Array.from(data));
  });

  it('should keep every item and dimension apart', () => {
    const data = Float32Array.from({ length: 2 * 4 * 3 }, (_, i) => i);
    const out = regroupEmbeddings(data, 2, [2, 2], 3, 2);
    // a 2×2 grid in one group: each item becomes one token of width 12, in the same order
    expect(Array.from(out)).toEqual(Array.from(data));
    expect(regroupEmbeddings(data, 2, [2, 2], 3, 1)).toBe(data);
  });
});
