import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, KernelConfig } from '@tensorflow/tfjs-core';
import { fusedActive, fusedConfigs, fusedImpl, fusedKernelFunc, type FusedNative } from './fused-common';

/**
 * LayerNorm over the last axis as one kernel, `(x − mean)/√(var + eps)·gamma + beta` (biased variance), and its
 * gradient as one more (dx, dgamma, dbeta; mean and variance recomputed), in place of ~10 kernels each way.
 */
export const FUSED_LAYER_NORM = 'Synth2FusedLayerNorm';
export const FUSED_LAYER_NORM_GRAD = 'Synth2FusedLayerNormGrad';

function rowStats(x: Float32Array, o: number, d: number, eps: number): [number, number] {
  let mean = 0;
  for (let c = 0; c < d; c++) mean += x[o + c]!;
  mean /= d;
  let v = 0;
  for (let c = 0; c < d; c++) {
    const t = x[o + c]! - mean;
    v += t * t;
  }
  return [mean, 1 / Math.sqrt(v / d + eps)];
}

export const layerNormForwardJs: FusedNative['layerNormForward'] = (rows, d, eps, x, gamma, beta, y) => {
  for (let r = 0, o = 0; r < rows; r++, o += d) {
    const [mean, rstd] = rowStats(x, o, d, eps);
    for (let c = 0; c < d; c++) y[o + c] = (x[o + c]! - mean) * rstd * gamma[c]! + beta[c]!;
  }
};

export const layerNormBackwardJs: FusedNative['layerNormBackward'] = (rows, d, eps, x, gamma, dy, dx, dgamma, dbeta) => {
  const dg = new Float64Array(d);
  const db = new Float64Array(d);
  for (let r = 0, o = 0; r < rows; r++, o += d) {
    const [mean, rstd] = rowStats(x, o, d, eps);
    let sumG = 0;
    let sumGX = 0;
    for (let c = 0; c < d; c++) {
      const xh = (x[o + c]! - mean) * rstd;
      const g = dy[o + c]! * gamma[c]!;
      sumG += g;
      sumGX += g * xh;
      dg[c]! += dy[o + c]! * xh;
      db[c]! += dy[o + c]!;
    }
    sumG /= d;
    sumGX /= d;
    for (let c = 0; c < d; c++) {
      const xh = (x[o + c]! - mean) * rstd;
      dx[o + c] = rstd * (dy[o + c]! * gamma[c]! - sumG - xh * sumGX);
    }
  }
  dgamma.set(dg);
  dbeta.set(db);
};

const forward = fusedKernelFunc(
  ['x', 'gamma', 'beta'],
  ([x]) => [x!.shape],
  ([x, gamma, beta], [y], attrs, native) => {
    const d = gamma!.length;
    const rows = x!.length / d;
    const eps = attrs.eps as number;
    const f = fusedImpl(native, 'layerNormForward', layerNormForwardJs);
    f(rows, d, eps, x as Float32Array, gamma as Float32Array, beta as Float32Array, y!);
  },
);

const backward = fusedKernelFunc(
  ['x', 'gamma', 'dy'],
  ([x, gamma]) => [x!.shape, gamma!.shape, gamma!.shape],
  ([x, gamma, dy], [dx, dgamma, dbeta], attrs, native) => {
    const d = gamma!.length;
    const rows = x!.length / d;
    const eps = attrs.eps as number;
    const f = fusedImpl(native, 'layerNormBackward', layerNormBackwardJs);
    f(rows, d, eps, x as Float32Array, gamma as Float32Array, dy as Float32Array, dx!, dgamma!, dbeta!);
  },
);

export const fusedLayerNormKernels: KernelConfig[] = [...fusedConfigs(FUSED_LAYER_NORM, forward), ...fusedConfigs(FUSED_LAYER_NORM_GRAD, backward)];

export const fusedLayerNormGrad: GradConfig = {
  kernelName: FUSED_LAYER_NORM,
  inputsToSave: ['x', 'gamma'],
  gradFunc: (dy, saved, attrs) => {
    const [x, gamma] = saved as tf.Tensor[];
    const [dx, dgamma, dbeta] = tf.engine().runKernel(FUSED_LAYER_NORM_GRAD, { x: x!, gamma: gamma!, dy: dy as tf.Tensor }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
    return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! };
  },
};

export function fusedLayerNormActive(): boolean {
  return fusedActive(FUSED_LAYER_NORM) && fusedActive(FUSED_LAYER_NORM_GRAD);
}

/** LayerNorm of float32 `x: [..., d]` with `gamma`, `beta: [d]` as one kernel; call only when {@link fusedLayerNormActive}. */
export function fusedLayerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor {
  return tf.engine().runKernel(FUSED_LAYER_NORM, { x, gamma, beta }, { eps } as unknown as tf.NamedAttrMap) as tf.Tensor;
}
