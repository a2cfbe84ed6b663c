import * as tf from '@tensorflow/tfjs-core';
import { InvalidInputError } from '@synth2/core';
import { positiveInt } from './linear';
import { Module, type ModuleOptions } from './module';

/** Options of `LearnedPositionEmbedding`. */
export interface LearnedPositionEmbeddingOptions extends ModuleOptions {
  /** Longest sequence supported. */
  length: number;
  dim: number;
}

/** Learned absolute positions `weight: [length, dim]` (normal 0.02): `apply(x) = x + weight[:T]`. */
export class LearnedPositionEmbedding extends Module {
  readonly length: number;
  readonly dim: number;
  readonly weight: tf.Variable;

  constructor(name: string, options: LearnedPositionEmbeddingOptions) {
    super(name, options);
    this.length = positiveInt(options.length, `${name}: length`);
    this.dim = positiveInt(options.dim, `${name}: dim`);
    this.weight = this.param('weight', [this.length, this.dim], { kind: 'normal', std: 0.02 });
  }

  /** `x: [B, T, dim]` with `T ≤ length`. */
  apply(x: tf.Tensor): tf.Tensor {
    if (x.rank !== 3 || x.shape[2] !== this.dim) {
      throw new InvalidInputError(`LearnedPositionEmbedding ${this.path}: x must be [B, T, ${this.dim}], got shape [${x.shape}]`);
    }
    const t = x.shape[1]!;
    if (t > this.length) {
      throw new InvalidInputError(`LearnedPositionEmbedding ${this.path}: sequence length ${t} exceeds the ${this.length} positions it was built for`);
    }
    return tf.tidy(() => tf.add(x, t === this.length ? this.weight : tf.slice(this.weight, [0, 0], [t, this.dim])));
  }
}

function sinusoidValues(length: number, dim: number): Float32Array {
  const out = new Float32Array(length * dim);
  for (let p = 0; p < length; p++) {
    for (let i = 0; i < dim / 2; i++) {
      const angle = p / Math.pow(10000, (2 * i) / dim);
      out[p * dim + 2 * i] = Math.sin(angle);
      out[p * dim + 2 * i + 1] = Math.cos(angle);
    }
  }
  return out;
}

/** Transformer sinusoids `[length, dim]`: `PE[p, 2i] = sin(p/10000^(2i/dim))`, `PE[p, 2i+1] = cos(…)`. `dim` even. */
export function sinusoidalPositions1d(length: number, dim: number): tf.Tensor2D {
  positiveInt(length, 'sinusoidalPositions1d: length');
  positiveInt(dim, 'sinusoidalPositions1d: dim');
  if (dim % 2 !== 0) throw new InvalidInputError(`sinusoidalPositions1d: dim must be even, got ${dim}`);
  return tf.tensor2d(sinusoidValues(length, dim), [length, dim]);
}

/**
 * 2-D sinusoids for an `h × w` grid, row-major `[h·w, dim]`: the first `dim/2` channels encode the row,
 * the last `dim/2` the column (each a 1-D table of width `dim/2`). `dim` divisible by 4.
 */
export function sinusoidalPositions2d(h: number, w: number, dim: number): tf.Tensor2D {
  positiveInt(h, 'sinusoidalPositions2d: h');
  positiveInt(w, 'sinusoidalPositions2d: w');
  positiveInt(dim, 'sinusoidalPositions2d: dim');
  if (dim % 4 !== 0) throw new InvalidInputError(`sinusoidalPositions2d: dim must be divisible by 4, got ${dim}`);
  const half = dim / 2;
  const rows = sinusoidValues(h, half);
  const cols = sinusoidValues(w, half);
  const out = new Float32Array(h * w * dim);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const base = (y * w + x) * dim;
      out.set(rows.subarray(y * half, (y + 1) * half), base);
      out.set(cols.subarray(x * half, (x + 1) * half), base + half);
    }
  }
  return tf.tensor2d(out, [h * w, dim]);
}
