import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '@synth2/core';
import { gatherEmbeddings, toEmbeddingTable } from './embedding-table';

describe('toEmbeddingTable', () => {
  const expected = { positions: 2, dim: 3 };

  it('should accept nested arrays, flat buffers and tensor-likes alike', () => {
    const nested = [
      [[1, 2, 3], [4, 5, 6]],
      [[7, 8, 9], [10, 11, 12]],
    ];
    const flat = Float32Array.from({ length: 12 }, (_, i) => i + 1);
    const a = toEmbeddingTable(nested, expected);
    const b = toEmbeddingTable({ data: flat, shape: [2, 2, 3] }, expected);
    const c = toEmbeddingTable({ shape: [2, 2, 3], dataSync: () => flat }, expected);
    for (const t of [a, b, c]) {
      expect(t.count).toBe(2);
      expect(Array.from(t.data)).toEqual(Array.from(flat));
    }
    expect(Array.from(gatherEmbeddings(a, [1]))).toEqual([7, 8, 9, 10, 11, 12]);
  });

  it('should say when the embedding width does not match the model', () => {
    const wrong = { data: new Float32Array(2 * 2 * 4), shape: [2, 2, 4] as [number, number, number] };
    expect(() => toEmbeddingTable(wrong, expected, 'real.embeddings')).toThrow(InvalidInputError);
    expect(() => toEmbeddingTable(wrong, expected, 'real.embeddings')).toThrow(
      /real.embeddings have width 4, but the model reads embeddings of width 3/,
    );
  });

  it('should reject wrong positions, ranks, ragged arrays and non-finite values', () => {
    expect(() => toEmbeddingTable({ data: new Float32Array(9), shape: [1, 3, 3] }, expected)).toThrow(/3 positions per image/);
    expect(() => toEmbeddingTable({ shape: [2, 6], dataSync: () => new Float32Array(12) }, expected)).toThrow(/rank 3/);
    expect(() => toEmbeddingTable([[[1, 2, 3], [4, 5]]], expected)).toThrow(/\[0\]\[1\] has width 2/);
    expect(() => toEmbeddingTable([[[1, 2, 3], [4, 5, Number.NaN]]], expected)).toThrow(/non-finite/);
  });
});
