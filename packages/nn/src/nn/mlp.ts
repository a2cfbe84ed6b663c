import * as tf from '@tensorflow/tfjs-core';
import { gelu } from './activations';
import { Linear } from './linear';
import { Module, type ModuleOptions } from './module';

/** Options of `MLP`. */
export interface MLPOptions extends ModuleOptions {
  dim: number;
  hidden: number;
  outDim?: number;
}

/** `fc2(gelu(fc1(x)))`. */
export class MLP extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;

  constructor(name: string, options: MLPOptions) {
    super(name, options);
    const rng = this.rng;
    this.fc1 = this.child('fc1', new Linear('fc1', { inDim: options.dim, outDim: options.hidden, rng }));
    this.fc2 = this.child('fc2', new Linear('fc2', { inDim: options.hidden, outDim: options.outDim ?? options.dim, rng }));
  }

  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.fc2.apply(gelu(this.fc1.apply(x))));
  }
}
