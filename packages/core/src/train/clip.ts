import * as tf from '@tensorflow/tfjs-core';

/**
 * Global L2 norm of `grads` and the grads scaled so that norm ≤ `maxNorm` (unchanged when already below, or when
 * `maxNorm` is 0 = off). Call inside `tf.tidy`.
 */
export function clipByGlobalNorm(grads: tf.Tensor[], maxNorm: number): { grads: tf.Tensor[]; norm: tf.Scalar } {
  const norm = tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))) as tf.Scalar;
  if (!(maxNorm > 0)) return { grads, norm };
  const scale = tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6)));
  return { grads: grads.map((g) => tf.mul(g, scale)), norm };
}

/** Global L2 norm of `grads` as a number, and the factor `min(1, maxNorm/(norm+1e-6))` that clips them (1 when off). */
export function globalNormScale(grads: tf.Tensor[], maxNorm: number): { norm: number; scale: number } {
  const norm = tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))).dataSync()[0]);
  return { norm, scale: maxNorm > 0 ? Math.min(1, maxNorm / (norm + 1e-6)) : 1 };
}
