import * as tf from '@tensorflow/tfjs-core';
import { fusedLayerNorm, fusedLayerNormActive } from '../tf/kernels/fused-layer-norm';
import { positiveInt } from './linear';
import { Module, expectLastDim, type ModuleOptions } from './module';

/** Options of `LayerNorm`. */
export interface LayerNormOptions extends ModuleOptions {
  dim: number;
  eps?: number;
}

/** Layer normalisation over the last axis: `(x − mean)/√(var + eps)·weight + bias` (weight ones, bias zeros). */
export class LayerNorm extends Module {
  readonly dim: number;
  readonly eps: number;
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(name: string, options: LayerNormOptions) {
    super(name, options);
    this.dim = positiveInt(options.dim, `${name}: dim`);
    this.eps = options.eps ?? 1e-5;
    this.weight = this.param('weight', [this.dim], { kind: 'ones' });
    this.bias = this.param('bias', [this.dim], { kind: 'zeros' });
  }

  apply(x: tf.Tensor): tf.Tensor {
    expectLastDim(x, this.dim, `LayerNorm ${this.path}`);
    // one kernel each way where registered (tf/kernels/fused-layer-norm.ts), else the tfjs composition
    if (fusedLayerNormActive() && x.dtype === 'float32') return fusedLayerNorm(x, this.weight, this.bias, this.eps);
    return tf.tidy(() => {
      const axis = x.rank - 1;
      const mean = tf.mean(x, axis, true);
      const centered = tf.sub(x, mean);
      const variance = tf.mean(tf.square(centered), axis, true);
      const normed = tf.mul(centered, tf.rsqrt(tf.add(variance, this.eps)));
      return tf.add(tf.mul(normed, this.weight), this.bias);
    });
  }
}
