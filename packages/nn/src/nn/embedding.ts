import * as tf from '@tensorflow/tfjs-core';
import { InvalidInputError } from '@synth2/core';
import { fastKernelStatus } from '../tf/kernels';
import { positiveInt } from './linear';
import { Module, type ModuleOptions } from './module';

/**
 * How the embedding's weight gradient is computed.
 * - `segmentSum`: `unsortedSegmentSum(dy, ids)` (O(N·dim); needs the kernel on the backend).
 * - `oneHot`: `oneHot(ids)ᵀ · dy` as an explicit transpose and a plain 2-D matMul (works on every backend).
 * - `auto` (default): `segmentSum` when core's fast `UnsortedSegmentSum` is registered for the backend (by
 *   `initBackend`) or the backend has its own (except tfjs's stock `cpu` one, O(vocab·N·dim)), else `oneHot`.
 */
export type EmbeddingGradient = 'auto' | 'segmentSum' | 'oneHot';

/** Options of `Embedding`. */
export interface EmbeddingOptions extends ModuleOptions {
  vocabSize: number;
  dim: number;
  /** Std of the normal init (default 0.02). */
  initStd?: number;
  gradient?: EmbeddingGradient;
}

/** Token embedding table `weight: [vocabSize, dim]` (normal 0.02); public so output heads can be tied to it. */
export class Embedding extends Module {
  readonly vocabSize: number;
  readonly dim: number;
  readonly weight: tf.Variable;
  readonly gradient: EmbeddingGradient;

  constructor(name: string, options: EmbeddingOptions) {
    super(name, options);
    this.vocabSize = positiveInt(options.vocabSize, `${name}: vocabSize`);
    this.dim = positiveInt(options.dim, `${name}: dim`);
    this.gradient = options.gradient ?? 'auto';
    this.weight = this.param('weight', [this.vocabSize, this.dim], { kind: 'normal', std: options.initStd ?? 0.02 });
  }

  /** `ids: int32 [...]` → `[..., dim]`. Ids must lie in `[0, vocabSize)`. */
  apply(ids: tf.Tensor): tf.Tensor {
    if (ids.dtype !== 'int32') {
      throw new InvalidInputError(`Embedding ${this.path}: ids must be an int32 tensor, got ${ids.dtype}; build them with tf.tensor(ids, shape, 'int32')`);
    }
    const mode = resolveGradient(this.gradient);
    const vocab = this.vocabSize;
    // No tidy here: the flattened ids are used again by the gradient, so they must live as long as the caller's
    // scope (the trainer step), not just this call — ids made inside a loss function would otherwise be freed early.
    const flat = tf.reshape(ids, [-1]) as tf.Tensor1D;
    const lookup = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const value = tf.gather(args[0] as tf.Tensor, flat);
      const gradFunc = (dy: tf.Tensor): tf.Tensor => embeddingWeightGrad(dy as tf.Tensor2D, flat, vocab, mode);
      return { value, gradFunc };
    });
    const rows = lookup(this.weight) as tf.Tensor;
    return tf.reshape(rows, [...ids.shape, this.dim]);
  }
}

function resolveGradient(mode: EmbeddingGradient): 'segmentSum' | 'oneHot' {
  if (mode !== 'auto') return mode;
  const backend = tf.getBackend();
  // core's fast kernels (registered by initBackend) include an O(N·dim) scatter-add
  if (fastKernelStatus().kernels.includes(`${backend}:UnsortedSegmentSum`)) return 'segmentSum';
  if (backend === 'cpu') return 'oneHot'; // tfjs's stock cpu kernel is O(vocab·N·dim)
  try {
    return tf.getKernel('UnsortedSegmentSum', backend) ? 'segmentSum' : 'oneHot';
  } catch {
    return 'oneHot';
  }
}

/** Gradient of `gather(weight, ids)` w.r.t. `weight`: `[vocab, dim]`. */
export function embeddingWeightGrad(dy: tf.Tensor2D, ids: tf.Tensor1D, vocab: number, mode: 'segmentSum' | 'oneHot'): tf.Tensor2D {
  return tf.tidy(() => {
    if (mode === 'segmentSum') return tf.unsortedSegmentSum(dy, ids, vocab) as tf.Tensor2D;
    const oneHotT = tf.transpose(tf.cast(tf.oneHot(ids, vocab), 'float32')) as tf.Tensor2D; // [vocab, N]
    return tf.matMul(oneHotT, dy);
  });
}
