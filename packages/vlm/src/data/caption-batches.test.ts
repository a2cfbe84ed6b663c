import { describe, expect, it } from 'vitest';
import { collateBatch } from './caption-batches';

describe('collateBatch', () => {
  it('should build teacher-forcing inputs, shifted targets and padding weights', () => {
    const tokens = { data: Float32Array.from([1, 2, 3, 4, 5, 6]), count: 3, positions: 1, dim: 2 };
    const special = { bos: 1, eos: 2, pad: 0 };
    const b = collateBatch(
      [
        { tokens, index: 2 },
        { tokens, index: 0 },
      ],
      [Int32Array.from([7, 8, 9]), Int32Array.from([5])],
      1,
      { positions: 1, dim: 2 },
      special,
    );
    expect(b.size).toBe(2);
    expect(Array.from(b.tokens)).toEqual([5, 6, 1, 2]);
    expect(b.length).toBe(4);
    expect(Array.from(b.input)).toEqual([1, 7, 8, 9, 1, 5, 0, 0]);
    expect(Array.from(b.target)).toEqual([7, 8, 9, 2, 5, 2, 0, 0]);
    expect(Array.from(b.weights)).toEqual([1, 1, 1, 1, 1, 1, 0, 0]);
    expect(b.targets).toBe(6);
    expect(b.synthetic).toBe(1);
  });
});
