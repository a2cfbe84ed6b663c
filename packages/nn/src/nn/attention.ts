import * as tf from '@tensorflow/tfjs-core';
import { InvalidInputError } from '@synth2/core';
import { fusedAttention, fusedAttentionActive } from '../tf/kernels/fused-attention';
import { Linear, positiveInt } from './linear';
import { Module, type ModuleOptions } from './module';

/** Options of `MultiHeadAttention`. */
export interface MultiHeadAttentionOptions extends ModuleOptions {
  dim: number;
  heads: number;
  /** Width of the keys/values' source (`context`), default `dim`. */
  kvDim?: number;
}

/** Options of `MultiHeadAttention.apply`: cross-attention context, causal masking and padding. */
export interface AttentionApplyOptions {
  /** Keys/values come from here (cross-attention): `[B, Tk, kvDim]`. Absent: self-attention. */
  context?: tf.Tensor;
  /** Position i attends only to positions ≤ i (self-attention with Tq = Tk). */
  causal?: boolean;
  /** `[B, Tk]`, 1 = attend, 0 = padding. */
  keyMask?: tf.Tensor;
}

const MASKED = -1e9;

/** Additive causal mask `[T, T]`: 0 on and below the diagonal, −1e9 above. */
export function causalMask(t: number): tf.Tensor2D {
  const values = new Float32Array(t * t);
  for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) values[i * t + j] = MASKED;
  return tf.tensor2d(values, [t, t]);
}

/** Multi-head scaled dot-product attention with projections `q`, `k`, `v`, `o`. */
export class MultiHeadAttention extends Module {
  readonly dim: number;
  readonly heads: number;
  readonly kvDim: number;
  readonly headDim: number;
  readonly q: Linear;
  readonly k: Linear;
  readonly v: Linear;
  readonly o: Linear;

  constructor(name: string, options: MultiHeadAttentionOptions) {
    super(name, options);
    this.dim = positiveInt(options.dim, `${name}: dim`);
    this.heads = positiveInt(options.heads, `${name}: heads`);
    this.kvDim = positiveInt(options.kvDim ?? options.dim, `${name}: kvDim`);
    if (this.dim % this.heads !== 0) {
      throw new InvalidInputError(`${name}: dim ${this.dim} is not divisible by heads ${this.heads}; pick heads that divide dim`);
    }
    this.headDim = this.dim / this.heads;
    const rng = this.rng;
    this.q = this.child('q', new Linear('q', { inDim: this.dim, outDim: this.dim, rng }));
    this.k = this.child('k', new Linear('k', { inDim: this.kvDim, outDim: this.dim, rng }));
    this.v = this.child('v', new Linear('v', { inDim: this.kvDim, outDim: this.dim, rng }));
    this.o = this.child('o', new Linear('o', { inDim: this.dim, outDim: this.dim, rng }));
  }

  /** `x: [B, Tq, dim]` → `[B, Tq, dim]`. */
  apply(x: tf.Tensor, opts: AttentionApplyOptions = {}): tf.Tensor {
    const where = `MultiHeadAttention ${this.path}`;
    if (x.rank !== 3 || x.shape[2] !== this.dim) {
      throw new InvalidInputError(`${where}: x must be [B, T, ${this.dim}], got shape [${x.shape}]`);
    }
    const [b, tq] = x.shape;
    const ctx = opts.context ?? x;
    if (opts.context && (ctx.rank !== 3 || ctx.shape[0] !== b || ctx.shape[2] !== this.kvDim)) {
      throw new InvalidInputError(`${where}: context must be [${b}, Tk, ${this.kvDim}], got shape [${ctx.shape}]`);
    }
    const tk = ctx.shape[1]!;
    if (opts.keyMask && (opts.keyMask.rank !== 2 || opts.keyMask.shape[0] !== b || opts.keyMask.shape[1] !== tk)) {
      throw new InvalidInputError(`${where}: keyMask must be [${b}, ${tk}] (1 = keep, 0 = pad), got shape [${opts.keyMask.shape}]`);
    }
    if (opts.causal && tq !== tk) {
      throw new InvalidInputError(`${where}: a causal mask needs as many queries as keys (got ${tq} and ${tk})`);
    }
    const h = this.heads;
    const hd = this.headDim;
    if (fusedAttentionActive() && x.dtype === 'float32' && ctx.dtype === 'float32') {
      // one kernel (and one for its gradient) on the projections' own layout: see tf/kernels/fused-attention.ts
      return tf.tidy(() =>
        this.o.apply(fusedAttention(this.q.apply(x), this.k.apply(ctx), this.v.apply(ctx), { heads: h, causal: opts.causal, keyMask: opts.keyMask })),
      );
    }
    return tf.tidy(() => {
      // [B, T, dim] → [B·H, T, hd]
      const split = (t: tf.Tensor, len: number): tf.Tensor3D =>
        tf.reshape(tf.transpose(tf.reshape(t, [b, len, h, hd]), [0, 2, 1, 3]), [b * h, len, hd]) as tf.Tensor3D;
      const q = split(tf.mul(this.q.apply(x), 1 / Math.sqrt(hd)), tq);
      const kT = tf.transpose(split(this.k.apply(ctx), tk), [0, 2, 1]) as tf.Tensor3D; // [B·H, hd, Tk]
      const v = split(this.v.apply(ctx), tk);
      let scores = tf.matMul(q, kT) as tf.Tensor; // [B·H, Tq, Tk]
      if (opts.causal || opts.keyMask) {
        scores = tf.reshape(scores, [b, h, tq, tk]);
        if (opts.causal) scores = tf.add(scores, causalMask(tq));
        if (opts.keyMask) {
          const pad = tf.mul(tf.sub(1, tf.cast(opts.keyMask, 'float32')), MASKED); // [B, Tk]
          scores = tf.add(scores, tf.reshape(pad, [b, 1, 1, tk]));
        }
        scores = tf.reshape(scores, [b * h, tq, tk]);
      }
      const weights = tf.softmax(scores) as tf.Tensor3D;
      const out = tf.matMul(weights, v); // [B·H, Tq, hd]
      const merged = tf.reshape(tf.transpose(tf.reshape(out, [b, h, tq, hd]), [0, 2, 1, 3]), [b, tq, this.dim]);
      return this.o.apply(merged);
    });
  }
}
