import * as tf from '@tensorflow/tfjs-core';
import { fusedGelu, fusedGeluActive } from '../tf/kernels/fused-gelu';

const GELU_C = Math.sqrt(2 / Math.PI);

/** GELU, tanh approximation: `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`. */
export function gelu<T extends tf.Tensor>(x: T): T {
  // one kernel each way where registered (tf/kernels/fused-gelu.ts), else the tfjs composition
  if (fusedGeluActive() && x.dtype === 'float32') return fusedGelu(x);
  return tf.tidy(() => {
    const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), GELU_C);
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1)) as T;
  });
}
