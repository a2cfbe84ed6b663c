import * as tf from '@tensorflow/tfjs-core';
import { InvalidInputError } from '@synth2/core';
import { fusedCrossEntropy, fusedCrossEntropyActive } from '../tf/kernels/fused-cross-entropy';

/**
 * Softmax cross-entropy of `logits: [N, V]` against `targets: int32 [N]`, averaged over the targets
 * (weighted by `weights: [N]` when given, e.g. 0 for padding: `Σ wᵢ·lossᵢ / Σ wᵢ`). Returns a scalar.
 */
export function crossEntropy(logits: tf.Tensor, targets: tf.Tensor, weights?: tf.Tensor): tf.Scalar {
  if (logits.rank !== 2) throw new InvalidInputError(`crossEntropy: logits must be [N, V], got shape [${logits.shape}]; reshape to 2-D first`);
  const [n, v] = logits.shape;
  if (targets.rank !== 1 || targets.shape[0] !== n) {
    throw new InvalidInputError(`crossEntropy: targets must be [${n}] to match logits [${n}, ${v}], got shape [${targets.shape}]`);
  }
  if (targets.dtype !== 'int32') throw new InvalidInputError(`crossEntropy: targets must be int32, got ${targets.dtype}`);
  if (weights && (weights.rank !== 1 || weights.shape[0] !== n)) {
    throw new InvalidInputError(`crossEntropy: weights must be [${n}], got shape [${weights.shape}]`);
  }
  if (fusedCrossEntropyActive()) {
    // one kernel each way (tf/kernels/fused-cross-entropy.ts): the same weighted mean
    return tf.tidy(() =>
      fusedCrossEntropy(tf.cast(logits, 'float32'), targets, weights ? tf.cast(weights, 'float32') : tf.ones([n])),
    );
  }
  // Note: oneHot with a float32 dtype returns zeros on tfjs-backend-wasm 4.22; build it as int32 and cast.
  return tf.tidy(() => {
    const logp = tf.logSoftmax(logits);
    const picked = tf.sum(tf.mul(logp, tf.cast(tf.oneHot(targets as tf.Tensor1D, v), 'float32')), 1); // [N]
    if (!weights) return tf.neg(tf.mean(picked)) as tf.Scalar;
    const w = tf.cast(weights, 'float32');
    const total = tf.maximum(tf.sum(w), 1e-12);
    return tf.neg(tf.div(tf.sum(tf.mul(picked, w)), total)) as tf.Scalar;
  });
}
