import * as tf from '@tensorflow/tfjs-core';
import type { CpuBackend, WasmBackend } from '../tf/kernels/backend-access';
import { getNative } from '../tf/kernels/native-state';

/**
 * One fused AdamW update per parameter tensor: a single pass over `param`, `grad`, `m`, `v` in JS on the wasm heap
 * (or the cpu backend's arrays) instead of ~15 elementwise kernels, writing new `param`, `m`, `v` buffers.
 */
export const FUSED_ADAMW = 'Synth2FusedAdamW';

export interface FusedAdamWAttrs {
  /** Learning rate. */
  lr: number;
  beta1: number;
  beta2: number;
  /** Bias corrections 1/(1−β₁ᵗ), 1/(1−β₂ᵗ). */
  c1: number;
  c2: number;
  eps: number;
  /** Decoupled weight decay for this tensor (0 = none). */
  decay: number;
  /** Multiplies the gradient first (global-norm clipping). */
  gradScale: number;
}

function update(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  pOut: Float32Array,
  mOut: Float32Array,
  vOut: Float32Array,
  a: FusedAdamWAttrs,
): void {
  const { lr, beta1, beta2, c1, c2, eps, decay, gradScale } = a;
  const ob1 = 1 - beta1;
  const ob2 = 1 - beta2;
  const n = pOut.length;
  for (let i = 0; i < n; i++) {
    const gi = g[i] * gradScale;
    const mi = beta1 * m[i] + ob1 * gi;
    const vi = beta2 * v[i] + ob2 * gi * gi;
    mOut[i] = mi;
    vOut[i] = vi;
    const pi = p[i];
    pOut[i] = pi - lr * ((mi * c1) / (Math.sqrt(vi * c2) + eps) + decay * pi);
  }
}

type Inputs = { param: tf.TensorInfo; grad: tf.TensorInfo; m: tf.TensorInfo; v: tf.TensorInfo };

function wasmKernel({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: object; attrs?: tf.NamedAttrMap }): tf.TensorInfo[] {
  const b = backend as unknown as WasmBackend;
  const { param, grad, m, v } = inputs as unknown as Inputs;
  // allocate first: a heap growth would detach views taken earlier
  const outs = [param, m, v].map((t) => b.makeOutput(t.shape, 'float32'));
  const [pOut, mOut, vOut] = outs.map((t) => b.typedArrayFromHeap(t) as Float32Array);
  const native = getNative() as unknown as { adamW?: (...arrays: Float32Array[]) => void } | null;
  if (native?.adamW) {
    // the native addon's vectorised loop (native/src/fused.c) when loaded
    const a = attrs as unknown as FusedAdamWAttrs;
    const hyper = Float32Array.of(a.lr, a.beta1, a.beta2, a.c1, a.c2, a.eps, a.decay, a.gradScale);
    const ins = [param, grad, m, v].map((t) => b.typedArrayFromHeap(t) as Float32Array);
    native.adamW(hyper, ...ins, pOut!, mOut!, vOut!);
    return outs;
  }
  update(
    b.typedArrayFromHeap(param) as Float32Array,
    b.typedArrayFromHeap(grad) as Float32Array,
    b.typedArrayFromHeap(m) as Float32Array,
    b.typedArrayFromHeap(v) as Float32Array,
    pOut,
    mOut,
    vOut,
    attrs as unknown as FusedAdamWAttrs,
  );
  return outs;
}

function cpuKernel({ inputs, backend, attrs }: { inputs: tf.NamedTensorInfoMap; backend: object; attrs?: tf.NamedAttrMap }): tf.TensorInfo[] {
  const b = backend as unknown as CpuBackend;
  const { param, grad, m, v } = inputs as unknown as Inputs;
  const size = tf.util.sizeFromShape(param.shape);
  const pOut = new Float32Array(size);
  const mOut = new Float32Array(size);
  const vOut = new Float32Array(size);
  const values = (t: tf.TensorInfo): Float32Array => {
    const x = b.data.get(t.dataId).values;
    return x instanceof Float32Array ? x : Float32Array.from(x);
  };
  update(values(param), values(grad), values(m), values(v), pOut, mOut, vOut, attrs as unknown as FusedAdamWAttrs);
  return [b.makeTensorInfo(param.shape, 'float32', pOut), b.makeTensorInfo(m.shape, 'float32', mOut), b.makeTensorInfo(v.shape, 'float32', vOut)];
}

/** Whether the fused update can run on the active backend (registers the kernel on first use). */
export function fusedAdamWAvailable(): boolean {
  const backend = tf.getBackend();
  if (backend !== 'wasm' && backend !== 'cpu') return false;
  if (!tf.getKernel(FUSED_ADAMW, backend)) {
    tf.registerKernel({
      kernelName: FUSED_ADAMW,
      backendName: backend,
      kernelFunc: (backend === 'wasm' ? wasmKernel : cpuKernel) as unknown as tf.KernelFunc,
    });
  }
  return true;
}

/** Runs the fused update; returns `[param', m', v']` (tracked by the engine: call inside `tf.tidy`). */
export function fusedAdamW(param: tf.Tensor, grad: tf.Tensor, m: tf.Tensor, v: tf.Tensor, attrs: FusedAdamWAttrs): tf.Tensor[] {
  const g = grad.dtype === 'float32' ? grad : tf.cast(grad, 'float32');
  return tf.engine().runKernel(FUSED_ADAMW, { param, grad: g, m, v }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
}
