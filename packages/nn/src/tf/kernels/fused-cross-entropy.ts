import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, KernelConfig } from '@tensorflow/tfjs-core';
import { fusedActive, fusedConfigs, fusedImpl, fusedKernelFunc, type FusedNative } from './fused-common';

/**
 * Weighted softmax cross-entropy of `logits: [N, V]` against int32 `targets: [N]` as one kernel,
 * `−Σ wᵢ·log softmax(xᵢ)[tᵢ] / max(Σ w, 1e-12)`, and its gradient (logits and weights) as one more: in place of
 * logSoftmax, oneHot, cast, multiply, sums and their gradients.
 */
export const FUSED_CROSS_ENTROPY = 'Synth2FusedCrossEntropy';
export const FUSED_CROSS_ENTROPY_GRAD = 'Synth2FusedCrossEntropyGrad';

/** log Σ exp(x[o..o+v]). */
function logSumExp(x: Float32Array, o: number, v: number): number {
  let max = -Infinity;
  for (let c = 0; c < v; c++) if (x[o + c]! > max) max = x[o + c]!;
  let s = 0;
  for (let c = 0; c < v; c++) s += Math.exp(x[o + c]! - max);
  return max + Math.log(s);
}

function totalWeight(w: Float32Array): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) s += w[i]!;
  return Math.max(s, 1e-12);
}

export const crossEntropyForwardJs: FusedNative['crossEntropyForward'] = (n, v, logits, targets, weights, loss) => {
  let s = 0;
  for (let i = 0; i < n; i++) s += weights[i]! * (logits[i * v + targets[i]!]! - logSumExp(logits, i * v, v));
  loss[0] = -s / totalWeight(weights);
};

export const crossEntropyBackwardJs: FusedNative['crossEntropyBackward'] = (n, v, dy, logits, targets, weights, dlogits, dweights) => {
  const W = totalWeight(weights);
  let loss = 0;
  const picked = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = i * v;
    const lse = logSumExp(logits, o, v);
    picked[i] = logits[o + targets[i]!]! - lse;
    loss -= weights[i]! * picked[i]!;
    const scale = (dy * weights[i]!) / W;
    for (let c = 0; c < v; c++) dlogits[o + c] = scale * Math.exp(logits[o + c]! - lse);
    dlogits[o + targets[i]!]! -= scale;
  }
  loss /= W;
  // d/dwᵢ of −Σ w·picked / max(Σ w, 1e-12); the denominator's term vanishes where the clamp is active
  const clamped = W === 1e-12;
  for (let i = 0; i < n; i++) dweights[i] = (dy * (-picked[i]! - (clamped ? 0 : loss))) / W;
};

const forward = fusedKernelFunc(
  ['logits', 'targets', 'weights'],
  () => [[]],
  ([logits, targets, weights], [loss], _attrs, native) => {
    const n = targets!.length;
    const v = logits!.length / Math.max(n, 1);
    const f = fusedImpl(native, 'crossEntropyForward', crossEntropyForwardJs);
    f(n, v, logits as Float32Array, targets as Int32Array, weights as Float32Array, loss!);
  },
);

const backward = fusedKernelFunc(
  ['logits', 'targets', 'weights', 'dy'],
  ([logits, , weights]) => [logits!.shape, weights!.shape],
  ([logits, targets, weights, dy], [dlogits, dweights], _attrs, native) => {
    const n = targets!.length;
    const v = logits!.length / Math.max(n, 1);
    const f = fusedImpl(native, 'crossEntropyBackward', crossEntropyBackwardJs);
    f(n, v, dy![0]!, logits as Float32Array, targets as Int32Array, weights as Float32Array, dlogits!, dweights!);
  },
);

export const fusedCrossEntropyKernels: KernelConfig[] = [
  ...fusedConfigs(FUSED_CROSS_ENTROPY, forward),
  ...fusedConfigs(FUSED_CROSS_ENTROPY_GRAD, backward),
];

export const fusedCrossEntropyGrad: GradConfig = {
  kernelName: FUSED_CROSS_ENTROPY,
  inputsToSave: ['logits', 'targets', 'weights'],
  gradFunc: (dy, saved) => {
    const [logits, targets, weights] = saved as tf.Tensor[];
    const [dl, dw] = tf.engine().runKernel(FUSED_CROSS_ENTROPY_GRAD, { logits: logits!, targets: targets!, weights: weights!, dy: dy as tf.Tensor }) as tf.Tensor[];
    return { logits: () => dl!, targets: () => tf.zeros(targets!.shape), weights: () => dw! };
  },
};

export function fusedCrossEntropyActive(): boolean {
  return fusedActive(FUSED_CROSS_ENTROPY) && fusedActive(FUSED_CROSS_ENTROPY_GRAD);
}

/**
 * Softmax cross-entropy of float32 `logits: [N, V]` against int32 `targets: [N]`, weighted by float32 `weights: [N]`
 * (ones for a plain mean), as one kernel; call only when {@link fusedCrossEntropyActive}. Returns a scalar.
 */
export function fusedCrossEntropy(logits: tf.Tensor, targets: tf.Tensor, weights: tf.Tensor): tf.Scalar {
  return tf.engine().runKernel(FUSED_CROSS_ENTROPY, { logits, targets, weights }) as tf.Scalar;
}
