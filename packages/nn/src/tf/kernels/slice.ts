import { backend_util, Slice, slice_util, SplitV, Tile, util, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import { callKernel, type WasmBackend } from './backend-access';

/**
 * `Slice`, `SplitV` and `Tile` on wasm for any rank as contiguous-run copies on the heap. tfjs-backend-wasm copies the whole
 * input out of the heap first and, above rank 4, walks elements one by one through a TensorBuffer (≈300 ms to split
 * a [32,32,3,4,64] q/k/v projection — more than the whole rest of a training step).
 */
export function sliceInto(
  src: ArrayLike<number> & { subarray(a: number, b: number): ArrayLike<number> },
  shape: number[],
  begin: number[],
  size: number[],
  dst: { set(a: ArrayLike<number>, offset: number): void },
): void {
  const rank = shape.length;
  if (rank === 0) {
    dst.set(src.subarray(0, 1), 0);
    return;
  }
  // merge the trailing dimensions taken whole into one contiguous run along dimension d
  let inner = 1;
  let d = rank - 1;
  while (d > 0 && begin[d] === 0 && size[d] === shape[d]) inner *= shape[d--]!;
  const run = size[d]! * inner;
  const strides: number[] = new Array(d);
  for (let k = d - 1, s = inner * shape[d]!; k >= 0; k--) {
    strides[k] = s;
    s *= shape[k]!;
  }
  let count = 1;
  for (let k = 0; k < d; k++) count *= size[k]!;
  const idx: number[] = new Array(d).fill(0);
  const base = begin[d]! * inner;
  for (let n = 0, o = 0; n < count; n++, o += run) {
    let off = base;
    for (let k = 0; k < d; k++) off += (begin[k]! + idx[k]!) * strides[k]!;
    dst.set(src.subarray(off, off + run), o);
    for (let k = d - 1; k >= 0; k--) {
      if (++idx[k]! < size[k]!) break;
      idx[k] = 0;
    }
  }
}

function sliceOne(be: WasmBackend, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const out = be.makeOutput(size, x.dtype); // views after allocating: the heap may grow
  if (util.sizeFromShape(size) > 0) sliceInto(be.typedArrayFromHeap(x), x.shape, begin, size, be.typedArrayFromHeap(out));
  return out;
}

const wasmSlice: KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as WasmBackend;
  const x = inputs.x as TensorInfo;
  if (x.dtype === 'string') return callKernel(Slice, 'wasm', be, { x }, attrs);
  const [begin, size] = slice_util.parseSliceParams(x, attrs!.begin as number[], attrs!.size as number[]);
  slice_util.assertParamsValid(x, begin, size);
  return sliceOne(be, x, begin, size);
};

const wasmSplitV: KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as WasmBackend;
  const x = inputs.x as TensorInfo;
  if (x.dtype === 'string') return callKernel(SplitV, 'wasm', be, { x }, attrs);
  const axis = util.parseAxisParam(attrs!.axis as number, x.shape)[0]!;
  const sizes = backend_util.prepareSplitSize(x as never, attrs!.numOrSizeSplits as number[] | number, axis);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const size = x.shape.slice();
    size[axis] = s;
    const out = sliceOne(be, x, begin.slice(), size);
    begin[axis]! += s;
    return out;
  });
};

/** A contiguous typed array that can copy within itself (the heap views tfjs-backend-wasm hands out). */
interface CopyableArray {
  length: number;
  subarray(a: number, b: number): CopyableArray;
  set(a: CopyableArray, offset: number): void;
  copyWithin(target: number, start: number, end: number): unknown;
}

/**
 * out = x repeated `reps[d]` times along every dimension d (row-major), by block copies: each source row is copied
 * once, then every dimension's finished block is doubled in place. (Sum's gradient broadcasts through here: dy over
 * the summed axes; tfjs-backend-wasm's own Tile walks the output element by element.)
 */
export function tileInto(src: CopyableArray, shape: number[], reps: number[], dst: CopyableArray): void {
  const rank = shape.length;
  if (rank === 0) {
    dst.set(src.subarray(0, 1), 0);
    return;
  }
  const outStrides = new Array<number>(rank);
  const inStrides = new Array<number>(rank);
  for (let d = rank - 1, o = 1, i = 1; d >= 0; d--) {
    outStrides[d] = o;
    inStrides[d] = i;
    o *= shape[d]! * reps[d]!;
    i *= shape[d]!;
  }
  const fill = (d: number, from: number, to: number): void => {
    const n = shape[d]!;
    if (d === rank - 1) dst.set(src.subarray(from, from + n), to);
    else for (let i = 0; i < n; i++) fill(d + 1, from + i * inStrides[d]!, to + i * outStrides[d]!);
    const block = n * outStrides[d]!;
    for (let k = 1; k < reps[d]!; k++) dst.copyWithin(to + k * block, to, to + block);
  };
  fill(0, 0, 0);
}

const wasmTile: KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as WasmBackend;
  const x = inputs.x as TensorInfo;
  const reps = attrs!.reps as number[];
  if (x.dtype === 'string' || reps.length !== x.shape.length) return callKernel(Tile, 'wasm', be, { x }, attrs);
  const outShape = x.shape.map((n, d) => n * reps[d]!);
  const out = be.makeOutput(outShape, x.dtype); // views after allocating: the heap may grow
  if (util.sizeFromShape(outShape) > 0) {
    tileInto(be.typedArrayFromHeap(x) as unknown as CopyableArray, x.shape, reps, be.typedArrayFromHeap(out) as unknown as CopyableArray);
  }
  return out;
};

export const sliceKernels: KernelConfig[] = [
  { kernelName: Slice, backendName: 'wasm', kernelFunc: wasmSlice },
  { kernelName: Tile, backendName: 'wasm', kernelFunc: wasmTile },
  { kernelName: SplitV, backendName: 'wasm', kernelFunc: wasmSplitV },
];
