import { getBackend, getKernel, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { CpuBackend, WasmBackend } from './backend-access';
import { getNative } from './native-state';

/**
 * What the native addon's fused.c exports (see native/src/fused.c). Every array aliases the wasm heap; sizes are
 * checked against the shape arguments and a mismatch throws a RangeError.
 */
export interface FusedNative {
  /** out = softmax(q·kᵀ·scale + mask)·v per batch and head; q `[B, Tq, H·hd]`, k/v `[B, Tk, H·hd]`, keyMask `[B, Tk]` or empty. */
  attentionForward(dims: Int32Array, scale: number, q: Float32Array, k: Float32Array, v: Float32Array, keyMask: Float32Array, out: Float32Array): void;
  /** dq, dk, dv of the above for dout (same layouts). */
  attentionBackward(
    dims: Int32Array,
    scale: number,
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    keyMask: Float32Array,
    dout: Float32Array,
    dq: Float32Array,
    dk: Float32Array,
    dv: Float32Array,
  ): void;
  /** LayerNorm over rows of `d`: y = (x − mean)/√(var + eps)·gamma + beta. */
  layerNormForward(rows: number, d: number, eps: number, x: Float32Array, gamma: Float32Array, beta: Float32Array, y: Float32Array): void;
  /** dx, dgamma, dbeta for dy. */
  layerNormBackward(
    rows: number,
    d: number,
    eps: number,
    x: Float32Array,
    gamma: Float32Array,
    dy: Float32Array,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
  ): void;
  /** Weighted softmax cross-entropy rows: loss[0] = −Σ wᵢ·log softmax(xᵢ)[tᵢ] / max(Σ w, 1e-12). */
  crossEntropyForward(n: number, v: number, logits: Float32Array, targets: Int32Array, weights: Float32Array, loss: Float32Array): void;
  /** dlogits and dweights of the above for the scalar upstream gradient `dy`. */
  crossEntropyBackward(
    n: number,
    v: number,
    dy: number,
    logits: Float32Array,
    targets: Int32Array,
    weights: Float32Array,
    dlogits: Float32Array,
    dweights: Float32Array,
  ): void;
}

/** The addon's fused functions when it is loaded and has them (the wasm backend only), else null. */
export function fusedNative(): FusedNative | null {
  const n = getNative() as unknown as Partial<FusedNative> | null;
  return n && typeof n.attentionForward === 'function' ? (n as FusedNative) : null;
}

/** The addon's `name` function (bound to the addon) when the addon is loaded, else `js`, its JavaScript twin. */
export function fusedImpl<K extends keyof FusedNative>(native: FusedNative | null, name: K, js: FusedNative[K]): FusedNative[K] {
  return native ? (native[name].bind(native) as FusedNative[K]) : js;
}

type Arrays = (Float32Array | Int32Array)[];

/**
 * A kernel function for wasm and cpu from one computation on typed arrays: `outShapes` are allocated first (a wasm
 * heap growth would detach views taken earlier), then `compute(inputs, outputs, native)` fills the outputs. On wasm
 * the arrays alias the heap and `native` is the addon when loaded. One output is returned as a tensor, several as
 * an array (tfjs hands a kernel's array back as an array).
 */
export function fusedKernelFunc(
  inputNames: string[],
  outShapes: (inputs: TensorInfo[], attrs: Record<string, unknown>) => number[][],
  compute: (ins: Arrays, outs: Float32Array[], attrs: Record<string, unknown>, native: FusedNative | null) => void,
): (backendName: 'wasm' | 'cpu') => KernelFunc {
  return (backendName) =>
    ({ inputs, backend, attrs }) => {
      const infos = inputNames.map((n) => inputs[n] as TensorInfo);
      const a = (attrs ?? {}) as Record<string, unknown>;
      const shapes = outShapes(infos, a);
      if (backendName === 'wasm') {
        const be = backend as unknown as WasmBackend;
        const outs = shapes.map((s) => be.makeOutput(s, 'float32'));
        const ins = infos.map((t) => be.typedArrayFromHeap(t) as Float32Array | Int32Array);
        compute(ins, outs.map((t) => be.typedArrayFromHeap(t) as Float32Array), a, fusedNative());
        return outs.length === 1 ? outs[0]! : outs;
      }
      const be = backend as unknown as CpuBackend;
      const ins = infos.map((t) => {
        const v = be.data.get(t.dataId).values;
        return v instanceof Float32Array || v instanceof Int32Array ? v : t.dtype === 'int32' ? Int32Array.from(v) : Float32Array.from(v);
      });
      const outs = shapes.map((s) => new Float32Array(s.reduce((x, y) => x * y, 1)));
      compute(ins, outs, a, null);
      const infos2 = outs.map((o, i) => be.makeTensorInfo(shapes[i]!, 'float32', o));
      return infos2.length === 1 ? infos2[0]! : infos2;
    };
}

/** Kernel configs of a fused kernel for wasm and cpu. */
export function fusedConfigs(kernelName: string, make: (b: 'wasm' | 'cpu') => KernelFunc): KernelConfig[] {
  return (['wasm', 'cpu'] as const).map((backendName) => ({ kernelName, backendName, kernelFunc: make(backendName) }));
}

/** Whether a fused kernel is registered for the active backend (by `registerFastKernels`). */
export function fusedActive(kernelName: string): boolean {
  const b = getBackend();
  return (b === 'wasm' || b === 'cpu') && getKernel(kernelName, b) !== undefined;
}
