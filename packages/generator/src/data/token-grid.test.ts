import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '@synth2/core';
import { groupTokens, ungroupTokens } from './token-grid';

describe('groupTokens', () => {
  it('should put each 2×2 block of an 8×8 grid into one of 16 positions and invert exactly', () => {
    const ids = Int32Array.from({ length: 2 * 64 }, (_, i) => i);
    const geom = { height: 8, width: 8, group: 2 };
    const g = groupTokens(ids, 2, geom);
    // position 1 = block (0,1): pixels (0,2),(0,3),(1,2),(1,3)
    expect(Array.from(g.slice(4, 8))).toEqual([2, 3, 10, 11]);
    // second item, last position = block (3,3)
    expect(Array.from(g.slice(64 + 60, 64 + 64))).toEqual([64 + 54, 64 + 55, 64 + 62, 64 + 63]);
    expect(Array.from(ungroupTokens(g, 2, geom))).toEqual(Array.from(ids));
  });
  it('should reject a group that does not divide the grid', () => {
    expect(() => groupTokens(new Int32Array(36), 1, { height: 6, width: 6, group: 4 })).toThrow(InvalidInputError);
  });
});
