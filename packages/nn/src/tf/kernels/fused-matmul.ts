import { type KernelConfig, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import { callKernel, type WasmBackend } from './backend-access';

const FUSED_MAT_MUL = '_FusedMatMul';

function swapPerm(rank: number): number[] {
  const p = [...Array(rank).keys()];
  [p[rank - 2], p[rank - 1]] = [p[rank - 1]!, p[rank - 2]!];
  return p;
}

/** tf.fused.matMul on wasm: transpose flags become explicit transposes so XNNPACK's fast path is used. */
const wasmFusedMatMul: KernelFunc = ({ inputs, backend, attrs }) => {
  const be = backend as WasmBackend;
  const tA = Boolean(attrs!.transposeA);
  const tB = Boolean(attrs!.transposeB);
  if (!tA && !tB) return callKernel(FUSED_MAT_MUL, 'wasm', be, inputs as Record<string, TensorInfo>, attrs);
  const tmp: TensorInfo[] = [];
  try {
    let a = inputs.a as TensorInfo;
    let b = inputs.b as TensorInfo;
    if (tA) tmp.push((a = callKernel('Transpose', 'wasm', be, { x: a }, { perm: swapPerm(a.shape.length) })));
    if (tB) tmp.push((b = callKernel('Transpose', 'wasm', be, { x: b }, { perm: swapPerm(b.shape.length) })));
    const rest: Record<string, TensorInfo> = {};
    for (const [k, v] of Object.entries(inputs)) if (v && k !== 'a' && k !== 'b') rest[k] = v;
    const newAttrs: NamedAttrMap = { ...attrs, transposeA: false, transposeB: false };
    return callKernel(FUSED_MAT_MUL, 'wasm', be, { ...rest, a, b }, newAttrs);
  } finally {
    for (const t of tmp) be.disposeData(t.dataId);
  }
};

export const fusedMatMulKernels: KernelConfig[] = [
  { kernelName: FUSED_MAT_MUL, backendName: 'wasm', kernelFunc: wasmFusedMatMul },
];
