import { getKernel, registerGradient, registerKernel, unregisterKernel, type GradConfig, type KernelConfig } from '@tensorflow/tfjs-core';
import { fusedAttentionGrad, fusedAttentionKernels } from './fused-attention';
import { fusedCrossEntropyGrad, fusedCrossEntropyKernels } from './fused-cross-entropy';
import { fusedGeluGrad, fusedGeluKernels } from './fused-gelu';
import { fusedLayerNormGrad, fusedLayerNormKernels } from './fused-layer-norm';

const kernels: KernelConfig[] = [...fusedAttentionKernels, ...fusedLayerNormKernels, ...fusedCrossEntropyKernels, ...fusedGeluKernels];
const grads: GradConfig[] = [fusedAttentionGrad, fusedLayerNormGrad, fusedCrossEntropyGrad, fusedGeluGrad];

/**
 * Registers the fused training ops (attention over short sequences, LayerNorm, softmax cross-entropy, tanh-GELU; each a
 * forward and a gradient kernel) for `backend` ('wasm' only when its tfjs backend is loaded), appending
 * `${backend}:${kernel}` and `grad:${kernel}` to `done`. The nn blocks use them where registered.
 */
export function registerFusedOps(backend: 'wasm' | 'cpu', wasmLoaded: boolean, done: string[]): void {
  if (backend === 'wasm' && !wasmLoaded) return;
  for (const c of kernels.filter((k) => k.backendName === backend)) {
    if (getKernel(c.kernelName, backend)) unregisterKernel(c.kernelName, backend);
    registerKernel(c);
    done.push(`${backend}:${c.kernelName}`);
  }
  for (const g of grads) {
    registerGradient(g);
    done.push(`grad:${g.kernelName}`);
  }
}
