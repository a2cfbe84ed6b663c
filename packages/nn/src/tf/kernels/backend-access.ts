import { getKernel, util, type DataType, type KernelConfig, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';

/** The parts of tfjs-backend-wasm's `BackendWasm` these kernels use (stable across tfjs 4.x). */
export interface WasmBackend {
  wasm: {
    HEAPU8: Uint8Array;
    cwrap: (name: string, ret: null | string, args: string[]) => (...args: unknown[]) => unknown;
    tfjs: { disposeData(id: number): void };
  };
  dataIdMap: { get(dataId: object): { id: number; memoryOffset: number }; delete(dataId: object): void };
  makeOutput(shape: number[], dtype: DataType, memoryOffset?: number): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** The parts of tfjs-backend-cpu's `MathBackendCPU` these kernels use. */
export interface CpuBackend {
  data: { get(dataId: object): { values: ArrayLike<number> } };
  makeTensorInfo(shape: number[], dtype: DataType, values?: ArrayLike<number>): TensorInfo;
  disposeIntermediateTensorInfo(t: TensorInfo): void;
}

/** Kernels replaced by this package, keyed `${backend}_${kernel}`: the configs tfjs had registered before. */
const originals = new Map<string, KernelConfig>();

export function originalKernel(kernelName: string, backendName: string): KernelConfig | undefined {
  return originals.get(`${backendName}_${kernelName}`) ?? getKernel(kernelName, backendName);
}

/**
 * Calls a backend kernel directly (not through the engine: nothing is taped or tracked). The caller owns
 * the returned TensorInfo and must dispose it (`backend.disposeData(info.dataId)`) unless it is returned.
 * Uses the kernel tfjs registered originally when this package replaced it.
 */
export function callKernel(
  kernelName: string,
  backendName: string,
  backend: unknown,
  inputs: Record<string, TensorInfo>,
  attrs: NamedAttrMap = {},
): TensorInfo {
  const config = originalKernel(kernelName, backendName);
  if (!config) throw new Error(`tfjs kernel ${kernelName} is not registered for backend ${backendName}`);
  const out = config.kernelFunc({ inputs, backend: backend as object, attrs });
  return Array.isArray(out) ? out[0]! : out;
}

/** Remembers tfjs's own config (first time only) so `callKernel` can still reach it after an override. */
export function rememberOriginal(kernelName: string, backendName: string): void {
  const key = `${backendName}_${kernelName}`;
  if (originals.has(key)) return;
  const existing = getKernel(kernelName, backendName);
  if (existing) originals.set(key, existing);
}

/** Registers a tensor that aliases `size` elements of the wasm heap at `byteOffset` (no allocation). */
export function wasmView(backend: WasmBackend, shape: number[], dtype: DataType, byteOffset: number): TensorInfo {
  return backend.makeOutput(shape, dtype, byteOffset);
}

/** Forgets a view made by `wasmView` without freeing the memory it aliases. */
export function releaseWasmView(backend: WasmBackend, view: TensorInfo): void {
  const { id } = backend.dataIdMap.get(view.dataId);
  backend.wasm.tfjs.disposeData(id);
  backend.dataIdMap.delete(view.dataId);
}

export function byteOffsetOf(backend: WasmBackend, t: TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset;
}

export const sizeOf = (shape: number[]): number => util.sizeFromShape(shape);
