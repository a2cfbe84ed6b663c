import * as tf from '@tensorflow/tfjs-core';
import type { GradConfig, KernelConfig } from '@tensorflow/tfjs-core';
import { tanhInto } from './elementwise';
import { fusedActive, fusedConfigs, fusedKernelFunc } from './fused-common';

/**
 * GELU (tanh approximation) `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))` as one kernel and its gradient as one more,
 * in place of ~8 elementwise kernels forward and ~15 backward.
 */
export const FUSED_GELU = 'Synth2FusedGelu';
export const FUSED_GELU_GRAD = 'Synth2FusedGeluGrad';

const C = Math.sqrt(2 / Math.PI);
const A = 0.044715;

function innerInto(x: Float32Array, u: Float32Array): void {
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    u[i] = C * (v + A * v * v * v);
  }
}

export function geluForwardJs(x: Float32Array, y: Float32Array): void {
  innerInto(x, y);
  tanhInto(y, y);
  for (let i = 0; i < x.length; i++) y[i] = 0.5 * x[i]! * (1 + y[i]!);
}

/** dx = dy·(0.5·(1 + t) + 0.5·x·(1 − t²)·√(2/π)·(1 + 3·0.044715·x²)), t = tanh(inner). */
export function geluBackwardJs(x: Float32Array, dy: Float32Array, dx: Float32Array): void {
  innerInto(x, dx);
  tanhInto(dx, dx);
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    const t = dx[i]!;
    dx[i] = dy[i]! * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * C * (1 + 3 * A * v * v));
  }
}

interface GeluNative {
  geluForward?(x: Float32Array, y: Float32Array): void;
  geluBackward?(x: Float32Array, dy: Float32Array, dx: Float32Array): void;
}

const forward = fusedKernelFunc(
  ['x'],
  ([x]) => [x!.shape],
  ([x], [y], _a, native) => {
    const n = native as unknown as GeluNative | null;
    if (n?.geluForward) n.geluForward(x as Float32Array, y!);
    else geluForwardJs(x as Float32Array, y!);
  },
);

const backward = fusedKernelFunc(
  ['x', 'dy'],
  ([x]) => [x!.shape],
  ([x, dy], [dx], _a, native) => {
    const n = native as unknown as GeluNative | null;
    if (n?.geluBackward) n.geluBackward(x as Float32Array, dy as Float32Array, dx!);
    else geluBackwardJs(x as Float32Array, dy as Float32Array, dx!);
  },
);

export const fusedGeluKernels: KernelConfig[] = [...fusedConfigs(FUSED_GELU, forward), ...fusedConfigs(FUSED_GELU_GRAD, backward)];

export const fusedGeluGrad: GradConfig = {
  kernelName: FUSED_GELU,
  inputsToSave: ['x'],
  gradFunc: (dy, saved) => {
    const [x] = saved as tf.Tensor[];
    return { x: () => tf.engine().runKernel(FUSED_GELU_GRAD, { x: x!, dy: dy as tf.Tensor }) as tf.Tensor };
  },
};

export function fusedGeluActive(): boolean {
  return fusedActive(FUSED_GELU) && fusedActive(FUSED_GELU_GRAD);
}

/** tanh-GELU of a float32 tensor as one kernel; call only when {@link fusedGeluActive}. */
export function fusedGelu<T extends tf.Tensor>(x: T): T {
  return tf.engine().runKernel(FUSED_GELU, { x }) as T;
}
