import * as tf from '@tensorflow/tfjs-core';
import { InvalidInputError } from '@synth2/core';
import { Module, expectLastDim, type ModuleOptions } from './module';

/** Options of `Linear`. */
export interface LinearOptions extends ModuleOptions {
  inDim: number;
  outDim: number;
  /** Add a bias (default true). */
  bias?: boolean;
  /** Std of the normal weight init (default 0.02). */
  initStd?: number;
}

function positiveInt(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new InvalidInputError(`${what} must be a positive integer, got ${String(value)}`);
  }
  return value;
}
export { positiveInt };

/** Dense layer `y = x·W + b`, `W: [inDim, outDim]` (normal 0.02), `b: [outDim]` (zeros). */
export class Linear extends Module {
  readonly inDim: number;
  readonly outDim: number;
  readonly weight: tf.Variable;
  readonly bias: tf.Variable | undefined;

  constructor(name: string, options: LinearOptions) {
    super(name, options);
    this.inDim = positiveInt(options.inDim, `${name}: inDim`);
    this.outDim = positiveInt(options.outDim, `${name}: outDim`);
    this.weight = this.param('weight', [this.inDim, this.outDim], { kind: 'normal', std: options.initStd ?? 0.02 });
    this.bias = options.bias === false ? undefined : this.param('bias', [this.outDim], { kind: 'zeros' });
  }

  /** `x: [..., inDim]` (rank ≥ 2) → `[..., outDim]`. */
  apply(x: tf.Tensor): tf.Tensor {
    expectLastDim(x, this.inDim, `Linear ${this.path}`, 2);
    return tf.tidy(() => {
      const lead = x.shape.slice(0, -1);
      const x2 = x.rank === 2 ? x : tf.reshape(x, [-1, this.inDim]);
      let y = tf.matMul(x2 as tf.Tensor2D, this.weight as tf.Tensor2D) as tf.Tensor;
      if (this.bias) y = tf.add(y, this.bias);
      return x.rank === 2 ? y : tf.reshape(y, [...lead, this.outDim]);
    });
  }
}
