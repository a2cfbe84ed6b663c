import {
  BatchMatMul,
  broadcast_util,
  matMul,
  reshape,
  sum,
  transpose,
  type GradConfig,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type Tensor,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import { byteOffsetOf, callKernel, releaseWasmView, sizeOf, wasmView, type WasmBackend } from './backend-access';
import { getNative } from './native-state';

/**
 * BatchMatMul on wasm without the slow paths of tfjs-backend-wasm's kernel, which uses XNNPACK only for an
 * un-transposed matMul with batch 1 (≈30 GFLOP/s here) and a naive loop otherwise (≈2–3 GFLOP/s):
 * - transpose flags → an explicit Transpose, then the fast path;
 * - a batch against one shared matrix (x[B,T,K] × w[K,N]) → folded into one 2-D matMul;
 * - equal batches (attention) → one fast-path matMul per batch item on views of the heap (no copies);
 * - with the native addon: OpenBLAS sgemm on the heap, transposes and batches included.
 */

/** Whether matMuls go to the native addon (else the portable path). */
export function nativeMatMulActive(): boolean {
  return getNative() !== null;
}

type CwrapBmm = (
  aId: number,
  aShape: Uint8Array,
  aRank: number,
  bId: number,
  bShape: Uint8Array,
  bRank: number,
  transposeA: boolean,
  transposeB: boolean,
  outId: number,
) => void;
const cwrapped = new WeakMap<object, CwrapBmm>();
function wasmBmm(be: WasmBackend): CwrapBmm {
  let f = cwrapped.get(be.wasm);
  if (!f) {
    f = be.wasm.cwrap('BatchMatMul', null, [
      'number',
      'array',
      'number',
      'number',
      'array',
      'number',
      'number',
      'number',
      'number',
    ]) as unknown as CwrapBmm;
    cwrapped.set(be.wasm, f);
  }
  return f;
}

const shapeBytes = (s: number[]) => new Uint8Array(new Int32Array(s).buffer);

function swapPerm(rank: number): number[] {
  const p = [...Array(rank).keys()];
  [p[rank - 2], p[rank - 1]] = [p[rank - 1]!, p[rank - 2]!];
  return p;
}

function dims(a: TensorInfo, b: TensorInfo, tA: boolean, tB: boolean) {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = tA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const k = tA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const k2 = tB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const n = tB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  if (k !== k2) {
    throw new Error(
      `matMul: inner dimensions differ (${k} vs ${k2}) for shapes ${JSON.stringify(a.shape)} and ` +
        `${JSON.stringify(b.shape)} with transposeA=${tA}, transposeB=${tB}`,
    );
  }
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const outBatch = broadcast_util.assertAndGetBroadcastShape(batchA, batchB);
  return { m, k, n, batchA: sizeOf(batchA), batchB: sizeOf(batchB), outBatch };
}

const wasmBatchMatMul: KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as WasmBackend;
  let a = inputs.a as TensorInfo;
  let b = inputs.b as TensorInfo;
  const tA = Boolean(attrs!.transposeA);
  const tB = Boolean(attrs!.transposeB);
  if (a.dtype !== 'float32' || b.dtype !== 'float32') {
    return callKernel(BatchMatMul, 'wasm', be, { a, b }, attrs);
  }
  const { m, k, n, batchA, batchB, outBatch } = dims(a, b, tA, tB);
  const outShape = [...outBatch, m, n];
  const batch = sizeOf(outBatch);
  const native = getNative();
  const broadcastOk = (batchA === batch || batchA === 1) && (batchB === batch || batchB === 1);

  if (native && broadcastOk) {
    const out = be.makeOutput(outShape, 'float32');
    if (batch * m * n === 0) return out;
    if (k === 0) {
      (be.typedArrayFromHeap(out) as Float32Array).fill(0);
      return out;
    }
    native.sgemmBatched(
      tA,
      tB,
      m,
      n,
      k,
      batch,
      be.typedArrayFromHeap(a) as Float32Array,
      batchA === 1 ? 0 : m * k,
      be.typedArrayFromHeap(b) as Float32Array,
      batchB === 1 ? 0 : k * n,
      be.typedArrayFromHeap(out) as Float32Array,
      m * n,
    );
    return out;
  }

  const tmp: TensorInfo[] = [];
  const run = (name: string, x: TensorInfo, at: NamedAttrMap) => {
    const r = callKernel(name, 'wasm', be, { x }, at);
    tmp.push(r);
    return r;
  };
  try {
    if (tA) a = run('Transpose', a, { perm: swapPerm(a.shape.length) });
    if (tB) b = run('Transpose', b, { perm: swapPerm(b.shape.length) });
    let out: TensorInfo;
    if (batchB === 1 && broadcastOk) {
      // one shared right-hand matrix: fold the batch into rows
      const a2 = run('Reshape', a, { shape: [1, batchA * m, k] });
      const b2 = run('Reshape', b, { shape: [1, k, n] });
      out = callKernel(BatchMatMul, 'wasm', be, { a: a2, b: b2 }, { transposeA: false, transposeB: false });
    } else if (broadcastOk) {
      out = be.makeOutput([batch, m, n], 'float32');
      const f = wasmBmm(be);
      const aOff = byteOffsetOf(be, a);
      const bOff = byteOffsetOf(be, b);
      const oOff = byteOffsetOf(be, out);
      const aStep = batchA === 1 ? 0 : m * k * 4;
      const aShape = shapeBytes([1, m, k]);
      const bShape = shapeBytes([1, k, n]);
      for (let i = 0; i < batch; i++) {
        const av = wasmView(be, [1, m, k], 'float32', aOff + i * aStep);
        const bv = wasmView(be, [1, k, n], 'float32', bOff + i * k * n * 4);
        const ov = wasmView(be, [1, m, n], 'float32', oOff + i * m * n * 4);
        const ids = [av, bv, ov].map((t) => be.dataIdMap.get(t.dataId).id);
        f(ids[0]!, aShape, 3, ids[1]!, bShape, 3, false, false, ids[2]!);
        releaseWasmView(be, av);
        releaseWasmView(be, bv);
        releaseWasmView(be, ov);
      }
    } else {
      out = callKernel(BatchMatMul, 'wasm', be, { a, b }, { transposeA: false, transposeB: false });
    }
    if (out.shape.length !== outShape.length || out.shape.some((d, i) => d !== outShape[i])) {
      const reshaped = callKernel('Reshape', 'wasm', be, { x: out }, { shape: outShape });
      be.disposeData(out.dataId);
      out = reshaped;
    }
    return out;
  } finally {
    for (const t of tmp) be.disposeData(t.dataId);
  }
};

/** matMul for gradients: explicit transposes on the portable path (flags are free with native sgemm). */
function mm(x: Tensor, y: Tensor, tx: boolean, ty: boolean): Tensor {
  if (getNative()) return matMul(x, y, tx, ty);
  return matMul(tx ? transpose(x, swapPerm(x.rank)) : x, ty ? transpose(y, swapPerm(y.rank)) : y);
}

/** Sums a broadcast gradient back to the input's shape. */
function reduceTo(g: Tensor, shape: number[]): Tensor {
  if (g.shape.length === shape.length && g.shape.every((d, i) => d === shape[i])) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank - 2; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  return reshape(axes.length ? sum(g, axes) : g, shape);
}

/**
 * Gradient of x·w-like products where the target is 2-D but both operands are batched:
 * Σ_i x_iᵀ y_i = Xᵀ Y with X, Y the batches stacked as rows — one 2-D matMul instead of a batched one.
 */
function gradProduct(x: Tensor, y: Tensor, tx: boolean, ty: boolean, target: number[]): Tensor {
  if (target.length === 2 && x.rank > 2 && y.rank > 2 && tx && !ty) {
    const xb = x.shape.slice(0, -2);
    const yb = y.shape.slice(0, -2);
    if (xb.length === yb.length && xb.every((d, i) => d === yb[i])) {
      const x2 = reshape(x, [-1, x.shape[x.rank - 1]!]);
      const y2 = reshape(y, [-1, y.shape[y.rank - 1]!]);
      return mm(x2, y2, true, false);
    }
  }
  return reduceTo(mm(x, y, tx, ty), target);
}

export const batchMatMulGrad: GradConfig = {
  kernelName: BatchMatMul,
  inputsToSave: ['a', 'b'],
  gradFunc: (dy, saved, attrs) => {
    const [a, b] = saved as [Tensor, Tensor];
    const g = dy as Tensor;
    const tA = Boolean(attrs.transposeA);
    const tB = Boolean(attrs.transposeB);
    return {
      a: () => (tA ? gradProduct(b, g, tB, true, a.shape) : gradProduct(g, b, false, !tB, a.shape)),
      b: () => (tB ? gradProduct(g, a, true, tA, b.shape) : gradProduct(a, g, !tA, false, b.shape)),
    };
  },
};

export const batchMatMulKernels: KernelConfig[] = [
  { kernelName: BatchMatMul, backendName: 'wasm', kernelFunc: wasmBatchMatMul },
];
