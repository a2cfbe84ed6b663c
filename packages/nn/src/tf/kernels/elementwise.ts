import {
  backend_util,
  broadcastTo,
  Exp,
  Identity,
  Pow,
  reshape,
  Sum,
  Tanh,
  util,
  type GradConfig,
  type KernelConfig,
  type KernelFunc,
  type Tensor,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { nativeMatMulActive } from './batch-mat-mul';
import { callKernel, type WasmBackend } from './backend-access';
import { getNative } from './native-state';

/**
 * Elementwise and reduction kernels where tfjs-backend-wasm is slow on training-sized tensors:
 * - `Pow` with a scalar exponent 2 or 3 (GELU's x³): repeated multiplication instead of std::pow (≈16 ns/element);
 * - `Sum` over leading axes (every bias gradient): a running row sum in double instead of transpose + reduce
 *   (the native addon's `sumRows` when loaded, same bits);
 * - `Tanh` as a rational function (portable) or the native addon's vectorised tanh; `Exp` native when loaded;
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
  const sumRows = getNative()?.sumRows;
  if (sumRows) {
    sumRows(src, be.typedArrayFromHeap(out) as Float32Array);
    return out;
  }
  const acc = new Float64Array(inner);
  for (let i = 0, base = 0; i < outer; i++, base += inner) {
    for (let j = 0; j < inner; j++) acc[j]! += src[base + j]!;
  }
  (be.typedArrayFromHeap(out) as Float32Array).set(acc);
  return out;
};

/**
 * tanh(x) = x·P(x²)/Q(x²): the 13th convergent of Lambert's continued fraction x/(1 + x²/(3 + x²/(5 + …))),
 * expanded once into two degree-6 polynomials in x² (coefficients normalised so Q(0) = 1). Max error 8e-8 on
 * |x| < 9.5 (below float32's half-ulp at 1); clamped beyond. ≈4× faster than tfjs-wasm's std::tanh (≈15 ns/element).
 */
function lambertTanhCoefficients(levels = 13): { p: number[]; q: number[] } {
  // convergents A_k = x·P_k(z), B_k = Q_k(z) with z = x²: A_k = (2k−1)·A_{k−1} + z·A_{k−2}, same for B
  const add = (a: number[], b: number[]) => Array.from({ length: Math.max(a.length, b.length) }, (_, i) => (a[i] ?? 0) + (b[i] ?? 0));
  const times = (c: number, a: number[]) => a.map((v) => c * v);
  const timesZ = (a: number[]) => [0, ...a];
  let [pPrev, p, qPrev, q] = [[0], [1], [1], [1]];
  for (let k = 2; k <= levels; k++) {
    [pPrev, p] = [p, add(times(2 * k - 1, p), timesZ(pPrev))];
    [qPrev, q] = [q, add(times(2 * k - 1, q), timesZ(qPrev))];
  }
  const q0 = q[0]!;
  return { p: p.map((v) => v / q0), q: q.map((v) => v / q0) };
}
const TANH = lambertTanhCoefficients();

export function tanhInto(x: Float32Array, y: Float32Array): void {
  const [p0, p1, p2, p3, p4, p5, p6] = TANH.p as [number, number, number, number, number, number, number];
  const [q0, q1, q2, q3, q4, q5, q6] = TANH.q as [number, number, number, number, number, number, number];
  for (let i = 0; i < x.length; i++) {
    // clamped with selects, not if/else (random signs mispredict); NaN stays NaN
    let v = x[i]!;
    v = v > 9.5 ? 9.5 : v;
    v = v < -9.5 ? -9.5 : v;
    const z = v * v;
    const num = p0 + z * (p1 + z * (p2 + z * (p3 + z * (p4 + z * (p5 + z * p6)))));
    const den = q0 + z * (q1 + z * (q2 + z * (q3 + z * (q4 + z * (q5 + z * q6)))));
    const t = (v * num) / den;
    y[i] = t > 1 ? 1 : t < -1 ? -1 : t; // the convergent overshoots 1 by 1e-7 near the clamp
  }
}

/** A unary float32 kernel computed by the native addon's `fn` when loaded, else by `portable` or tfjs's own. */
function nativeUnary(kernelName: string, fn: 'tanh' | 'exp', portable?: (x: Float32Array, y: Float32Array) => void): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const be = backend as WasmBackend;
    const x = inputs.x as TensorInfo;
    const f = (nativeMatMulActive() ? getNative()?.[fn] : undefined) ?? portable;
    if (!f || x.dtype !== 'float32') return callKernel(kernelName, 'wasm', be, { x }, attrs);
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
  { kernelName: Tanh, backendName: 'wasm', kernelFunc: nativeUnary(Tanh, 'tanh', tanhInto) },
  { kernelName: Exp, backendName: 'wasm', kernelFunc: nativeUnary(Exp, 'exp') },
];

/**
 * Sum's gradient: dy broadcast back over the summed axes. tfjs-core's multiplies by `ones(x.shape)`, filled
 * element by element in JS (a tenth of a demo generator step); a broadcast gives the same values without it.
 */
export const sumGrad: GradConfig = {
  kernelName: Sum,
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [Tensor];
    const expanded = x.shape.slice();
    for (const axis of util.parseAxisParam(attrs.axis as number | number[], x.shape)) expanded[axis] = 1;
    return { x: () => broadcastTo(reshape(dy as Tensor, expanded), x.shape) };
  },
};
