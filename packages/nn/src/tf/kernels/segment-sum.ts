import { UnsortedSegmentSum, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { sizeOf, type CpuBackend, type WasmBackend } from './backend-access';
import { getNative } from './native-state';

/**
 * out[s, ...] = Σ_{i : ids[i] = s} x[i, ...] — a scatter-add, O(N·d). Ids outside [0, numSegments) are
 * dropped (TensorFlow's semantics). `x` is [...ids.shape, ...rest], flattened here to N rows of d. On wasm with
 * the native addon loaded, float32 inputs go to its `scatterAdd` (same bits).
 */
export function scatterAdd(
  x: ArrayLike<number>,
  ids: ArrayLike<number>,
  numSegments: number,
  out: Float32Array | Int32Array,
): void {
  out.fill(0);
  const n = ids.length;
  const d = n === 0 ? 0 : x.length / n;
  for (let i = 0; i < n; i++) {
    const s = ids[i]!;
    if (s < 0 || s >= numSegments) continue;
    let src = i * d;
    let dst = s * d;
    for (let j = 0; j < d; j++) out[dst++]! += x[src++]!;
  }
}

function outShapeOf(x: TensorInfo, ids: TensorInfo, numSegments: number): number[] {
  const prefix = x.shape.slice(0, ids.shape.length);
  if (ids.shape.length === 0 || prefix.length !== ids.shape.length || prefix.some((n, i) => n !== ids.shape[i])) {
    throw new Error(
      `UnsortedSegmentSum: segmentIds' shape must be a leading part of x's shape (x ${JSON.stringify(x.shape)}, ` +
        `segmentIds ${JSON.stringify(ids.shape)}); give one id per row of x`,
    );
  }
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`UnsortedSegmentSum: x must be float32 or int32, got ${x.dtype}`);
  }
  return [numSegments, ...x.shape.slice(ids.shape.length)];
}

const wasmSegmentSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as WasmBackend;
  const x = inputs.x as TensorInfo;
  const ids = inputs.segmentIds as TensorInfo;
  const numSegments = attrs!.numSegments as number;
  const outShape = outShapeOf(x, ids, numSegments);
  const out = be.makeOutput(outShape, x.dtype); // may grow the heap: take views after allocating
  if (sizeOf(outShape) === 0) return out;
  const idsView = be.typedArrayFromHeap(ids);
  const ids32 = (ids.dtype === 'int32' ? idsView : Int32Array.from(idsView)) as Int32Array;
  const xs = be.typedArrayFromHeap(x);
  const native = getNative()?.scatterAdd;
  if (native && x.dtype === 'float32') {
    native(xs as Float32Array, ids32, numSegments, be.typedArrayFromHeap(out) as Float32Array);
    return out;
  }
  scatterAdd(xs, ids32, numSegments, be.typedArrayFromHeap(out) as Float32Array);
  return out;
};

const cpuSegmentSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as CpuBackend;
  const x = inputs.x as TensorInfo;
  const ids = inputs.segmentIds as TensorInfo;
  const numSegments = attrs!.numSegments as number;
  const outShape = outShapeOf(x, ids, numSegments);
  const values = x.dtype === 'int32' ? new Int32Array(sizeOf(outShape)) : new Float32Array(sizeOf(outShape));
  scatterAdd(be.data.get(x.dataId).values, be.data.get(ids.dataId).values, numSegments, values);
  return be.makeTensorInfo(outShape, x.dtype, values);
};

export const segmentSumKernels: KernelConfig[] = [
  { kernelName: UnsortedSegmentSum, backendName: 'wasm', kernelFunc: wasmSegmentSum },
  { kernelName: UnsortedSegmentSum, backendName: 'cpu', kernelFunc: cpuSegmentSum },
];
