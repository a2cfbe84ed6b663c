import { InvalidInputError } from '@synth2/core';

/** Image embeddings held in memory: `count` items of `positions × dim` floats, row-major. */
export interface EmbeddingTable {
  data: Float32Array;
  count: number;
  positions: number;
  dim: number;
}

/** A tensor-like value (a tfjs tensor or anything with `shape` and `dataSync`). */
export interface TensorLike {
  shape: number[];
  dataSync(): ArrayLike<number>;
}

/**
 * Image embeddings as accepted by the public API: a tfjs tensor `[B, N, d]`, a flat `Float32Array` with its
 * shape, an `EmbeddingTable`, or nested arrays `number[][][]`.
 */
export type EmbeddingsInput =
  | TensorLike
  | { data: Float32Array; shape: [number, number, number] }
  | EmbeddingTable
  | number[][][];

function isTensorLike(x: unknown): x is TensorLike {
  return typeof x === 'object' && x !== null && Array.isArray((x as TensorLike).shape) && typeof (x as TensorLike).dataSync === 'function';
}

/**
 * Converts and checks embeddings. `expected` is the model's per-item shape; a mismatch is an
 * `InvalidInputError` that says which shape was given and what to do.
 */
export function toEmbeddingTable(
  input: EmbeddingsInput,
  expected: { positions: number; dim: number },
  what = 'embeddings',
): EmbeddingTable {
  let data: Float32Array;
  let shape: number[];
  if (input == null || typeof input !== 'object') {
    throw new InvalidInputError(`${what} must be a [count, ${expected.positions}, ${expected.dim}] tensor or array, got ${String(input)}.`, {
      field: what,
    });
  }
  if (isTensorLike(input)) {
    shape = input.shape;
    if (shape.length !== 3) {
      throw new InvalidInputError(
        `${what} must have rank 3 [count, positions, width] = [count, ${expected.positions}, ${expected.dim}], got shape [${shape.join(', ')}].`,
        { field: what },
      );
    }
    const values = input.dataSync();
    data = values instanceof Float32Array ? values : Float32Array.from(values);
  } else if ('count' in input && 'positions' in input && input.data instanceof Float32Array) {
    shape = [input.count, input.positions, input.dim];
    data = input.data;
  } else if ('shape' in input && input.data instanceof Float32Array) {
    shape = [...input.shape];
    data = input.data;
  } else if (Array.isArray(input)) {
    const n = input.length;
    const p = n > 0 && Array.isArray(input[0]) ? input[0].length : 0;
    const d = p > 0 && Array.isArray(input[0][0]) ? input[0][0].length : 0;
    shape = [n, p, d];
    data = new Float32Array(n * p * d);
    for (let i = 0; i < n; i++) {
      const item = input[i];
      if (!Array.isArray(item) || item.length !== p) {
        throw new InvalidInputError(`${what}[${i}] has ${Array.isArray(item) ? item.length : 'no'} positions, expected ${expected.positions}.`, {
          field: what,
        });
      }
      for (let j = 0; j < p; j++) {
        const row = item[j];
        if (!Array.isArray(row) || row.length !== d) {
          throw new InvalidInputError(
            `${what}[${i}][${j}] has width ${Array.isArray(row) ? row.length : 'none'}, expected ${expected.dim}.`,
            { field: what },
          );
        }
        for (let k = 0; k < d; k++) data[(i * p + j) * d + k] = row[k];
      }
    }
  } else {
    throw new InvalidInputError(`${what} must be a [count, ${expected.positions}, ${expected.dim}] tensor or array.`, { field: what });
  }
  const [count, positions, dim] = shape;
  if (dim !== expected.dim) {
    throw new InvalidInputError(
      `${what} have width ${dim}, but the model reads embeddings of width ${expected.dim} (embeddingDim). ` +
        'Embed the images with the tokenizer the model was configured for, or create the model with a matching embeddingDim.',
      { field: what },
    );
  }
  if (positions !== expected.positions) {
    throw new InvalidInputError(
      `${what} have ${positions} positions per image, but the model reads ${expected.positions} (its grid). ` +
        'Use the tokenizer the model was configured for, or create the model with a matching grid.',
      { field: what },
    );
  }
  if (data.length !== count * positions * dim) {
    throw new InvalidInputError(
      `${what}: ${data.length} values do not fill the shape [${count}, ${positions}, ${dim}].`,
      { field: what },
    );
  }
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      const item = Math.floor(i / (positions * dim));
      throw new InvalidInputError(`${what}[${item}] contains a non-finite value (${data[i]}). Check the embedding producer.`, {
        field: what,
      });
    }
  }
  return { data, count, positions, dim };
}

/** Copies items `indices` of a table into one contiguous `[indices.length, positions, dim]` buffer. */
export function gatherEmbeddings(table: EmbeddingTable, indices: ArrayLike<number>): Float32Array {
  const size = table.positions * table.dim;
  const out = new Float32Array(indices.length * size);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i];
    out.set(table.data.subarray(j * size, (j + 1) * size), i * size);
  }
  return out;
}
