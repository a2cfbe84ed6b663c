import * as tf from '@tensorflow/tfjs-core';
import type { CpuBackend, WasmBackend } from '../tf/kernels/backend-access';

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

/** Sum of squares of a tensor's values, read in place on wasm/cpu; undefined on other backends. */
function sumOfSquaresInPlace(t: tf.Tensor): number | undefined {
  const name = tf.getBackend();
  if (t.dtype !== 'float32' || (name !== 'wasm' && name !== 'cpu')) return undefined;
  const backend = tf.backend() as unknown as WasmBackend & CpuBackend;
  const values = name === 'wasm' ? backend.typedArrayFromHeap(t) : backend.data.get(t.dataId).values;
  if (!(values instanceof Float32Array)) return undefined;
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] * values[i];
  return s;
}

/**
 * Global L2 norm of `grads` as a number, and the factor `min(1, maxNorm/(norm+1e-6))` that clips them (1 when off).
 * On wasm/cpu the sum of squares is accumulated in float64 in one read-only pass over the backend's memory.
 */
export function globalNormScale(grads: tf.Tensor[], maxNorm: number): { norm: number; scale: number } {
  let total = 0;
  let fast = true;
  for (const g of grads) {
    const s = sumOfSquaresInPlace(g);
    if (s === undefined) {
      fast = false;
      break;
    }
    total += s;
  }
  const norm = fast ? Math.sqrt(total) : tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))).dataSync()[0]);
  return { norm, scale: maxNorm > 0 ? Math.min(1, maxNorm / (norm + 1e-6)) : 1 };
}
