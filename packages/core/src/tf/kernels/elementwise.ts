import { backend_util, Exp, Identity, Pow, Sum, Tanh, util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { nativeMatMulActive } from './batch-mat-mul';
import { callKernel, type WasmBackend } from './backend-access';
import { getNative } from './native-state';

/**
 * Elementwise and reduction kernels where tfjs-backend-wasm is slow on training-sized tensors:
 * - `Pow` with a scalar exponent 2 or 3 (GELU's x³): repeated multiplication instead of std::pow (≈16 ns/element);
 * - `Sum` over leading axes (every bias gradient): a running row sum instead of transpose + reduce;
 * - `Tanh` and `Exp` through the native addon's vectorised versions when it is loaded;
 * - `Identity` (every pass-through gradient) shares the input's buffer, as tfjs's cpu backend does and as
 *   wasm's own `Reshape` does, instead of copying it.
 * Anything else falls through to tfjs's own kernel.
 */

const wasmPow: KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as WasmBackend;
  const a = inputs.a as TensorInfo;
  const b = inputs.b as TensorInfo;
  if (a.dtype === 'float32' && b.dtype === 'float32' && util.sizeFromShape(b.shape) === 1) {
    const e = be.typedArrayFromHeap(b)[0];
    if (e === 2 || e === 3) {
      const outShape = backend_util.assertAndGetBroadcastShape(a.shape, b.shape); // same size as a
      const out = be.makeOutput(outShape, 'float32');
      const x = be.typedArrayFromHeap(a) as Float32Array;
      const y = be.typedArrayFromHeap(out) as Float32Array;
      if (e === 2) for (let i = 0; i < x.length; i++) y[i] = x[i]! * x[i]!;
      else for (let i = 0; i < x.length; i++) y[i] = x[i]! * x[i]! * x[i]!;
      return out;
    }
  }
  return callKernel(Pow, 'wasm', be, { a, b }, attrs);
};

const wasmSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as WasmBackend;
  const x = inputs.x as TensorInfo;
  const rank = x.shape.length;
  const axes = util.parseAxisParam(attrs!.axis as number | number[], x.shape).sort((p, q) => p - q);
  const leading = axes.length > 0 && axes.length < rank && axes.every((ax, i) => ax === i);
  if (!leading || x.dtype !== 'float32') return callKernel(Sum, 'wasm', be, { x }, attrs);
  const r = axes.length;
  const outer = util.sizeFromShape(x.shape.slice(0, r));
  const inner = util.sizeFromShape(x.shape.slice(r));
  const outShape = attrs!.keepDims ? x.shape.map((d, i) => (i < r ? 1 : d)) : x.shape.slice(r);
  const out = be.makeOutput(outShape, 'float32');
  const src = be.typedArrayFromHeap(x) as Float32Array;
  const acc = new Float64Array(inner);
  for (let i = 0, base = 0; i < outer; i++, base += inner) {
    for (let j = 0; j < inner; j++) acc[j]! += src[base + j]!;
  }
  (be.typedArrayFromHeap(out) as Float32Array).set(acc);
  return out;
};

/** A unary float32 kernel computed by the native addon's `fn` when loaded, else by tfjs's own kernel. */
function nativeUnary(kernelName: string, fn: 'tanh' | 'exp'): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const be = backend as WasmBackend;
    const x = inputs.x as TensorInfo;
    const f = getNative()?.[fn];
    if (!f || !nativeMatMulActive() || x.dtype !== 'float32') return callKernel(kernelName, 'wasm', be, { x }, attrs);
    const out = be.makeOutput(x.shape, 'float32');
    f(be.typedArrayFromHeap(x) as Float32Array, be.typedArrayFromHeap(out) as Float32Array);
    return out;
  };
}

const wasmIdentity: KernelFunc = ({ inputs, backend, attrs }) => {
  const x = inputs.x as TensorInfo;
  if (x.dtype === 'string') return callKernel(Identity, 'wasm', backend, { x }, attrs);
  (backend as WasmBackend & { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
};

export const elementwiseKernels: KernelConfig[] = [
  { kernelName: Identity, backendName: 'wasm', kernelFunc: wasmIdentity },
  { kernelName: Pow, backendName: 'wasm', kernelFunc: wasmPow },
  { kernelName: Sum, backendName: 'wasm', kernelFunc: wasmSum },
  { kernelName: Tanh, backendName: 'wasm', kernelFunc: nativeUnary(Tanh, 'tanh') },
  { kernelName: Exp, backendName: 'wasm', kernelFunc: nativeUnary(Exp, 'exp') },
];
