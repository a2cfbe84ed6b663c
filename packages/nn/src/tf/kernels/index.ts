import {
  getGradient,
  getKernel,
  registerGradient,
  registerKernel,
  unregisterKernel,
  type KernelConfig,
} from '@tensorflow/tfjs-core';
import { BackendUnavailableError } from '@synth2/core';
import { rememberOriginal } from './backend-access';
import { batchMatMulGrad, batchMatMulKernels, nativeMatMulActive } from './batch-mat-mul';
import { convGradKernels } from './conv-grads';
import { elementwiseKernels, sumGrad } from './elementwise';
import { fusedMatMulKernels } from './fused-matmul';
import { registerFusedOps } from './fused-ops';
import { gatherKernels } from './gather';
import { loadNativeKernels, type NativeKernels } from './native-addon';
import { setNative } from './native-state';
import { segmentSumKernels } from './segment-sum';
import { sliceKernels } from './slice';
import { wantedWasmThreads } from '../wasm-threads';

export interface FastKernelOptions {
  /** Threads for the native addon's pool (GEMM, convolutions): this, else env `SYNTH2_THREADS`, else 1. */
  threads?: number;
  /**
   * true: require the native addon (throws if not built); false: never use it; default: use it when built, unless
   * env `SYNTH2_NATIVE=0` (`SYNTH2_NATIVE=1` requires it).
   */
  native?: boolean;
  log?: (msg: string) => void;
}

export interface FastKernelStatus {
  /** `${backend}:${kernel}` for every kernel and `grad:${kernel}` for every gradient registered. */
  kernels: string[];
  native: boolean;
  /** What the native addon reported (`synth2 sgemm avx512f, 1 thread`), or why it is not used. */
  nativeReason: string;
  threads: number;
  /** The addon's `info()` when it is in use. */
  nativeInfo?: string;
}

const status: FastKernelStatus = { kernels: [], native: false, nativeReason: 'not requested', threads: 1 };

function install(config: KernelConfig, done: string[]): void {
  rememberOriginal(config.kernelName, config.backendName);
  if (getKernel(config.kernelName, config.backendName)) unregisterKernel(config.kernelName, config.backendName);
  registerKernel(config);
  done.push(`${config.backendName}:${config.kernelName}`);
}

/**
 * Registers this package's kernels and gradients for `backend` ('wasm' or 'cpu'; other backends get
 * nothing), globally, so plain `tf.matMul`, `tf.gather`, `tf.conv2d`… become fast and trainable:
 * - wasm + cpu: `UnsortedSegmentSum` as an O(N·d) scatter-add (the gradient of `gather`);
 * - wasm: `Conv2DBackpropFilter` / `Conv2DBackpropInput` as forward convolutions (XNNPACK);
 * - wasm: `BatchMatMul` / `_FusedMatMul` that avoid the slow transposed and batched paths;
 * - wasm: `Slice` / `SplitV` as run copies for any rank, `GatherV2` as row copies, `Pow`, leading-axis `Sum`,
 *   `Identity`, `Tanh`, `Exp`;
 * - wasm + cpu: the `BatchMatMul` gradient with explicit transposes, folded batches and broadcasting;
 * - the native addon (its own SGEMM, convolutions and elementwise kernels on the wasm heap) when built.
 * Idempotent; returns the names registered.
 */
export async function registerFastKernels(backend: string, options: FastKernelOptions = {}): Promise<string[]> {
  const done: string[] = [];
  const log = options.log ?? (() => {});
  // wasm kernels wrap tfjs's own (reached through `callKernel`): only when @tensorflow/tfjs-backend-wasm is loaded
  const wasmLoaded = getKernel('BatchMatMul', 'wasm') !== undefined;
  const wanted = (c: KernelConfig) => c.backendName === backend && (c.backendName !== 'wasm' || wasmLoaded);
  for (const c of [...segmentSumKernels, ...convGradKernels, ...fusedMatMulKernels, ...elementwiseKernels, ...sliceKernels, ...gatherKernels].filter(wanted)) {
    install(c, done);
  }

  let native: NativeKernels | null = null;
  const envNative = process.env.SYNTH2_NATIVE?.trim();
  const want = options.native ?? (envNative === '0' ? false : envNative === '1' ? true : undefined);
  let nativeReason = options.native === false ? 'disabled (native: false)' : 'disabled (SYNTH2_NATIVE=0)';
  if (backend !== 'wasm') {
    nativeReason = `not used on the ${backend} backend`;
    if (want === true) log(`native kernels: ${nativeReason}`);
  } else if (want !== false) {
    const loaded = loadNativeKernels();
    native = loaded.addon;
    nativeReason = loaded.reason;
    if (!native && want === true) {
      throw new BackendUnavailableError(`native kernels were requested but are unavailable: ${loaded.reason}`, {
        backend: 'wasm+native',
      });
    }
  }
  if (native) native.setThreads(Math.min(64, wantedWasmThreads(options.threads)));
  setNative(native);

  for (const c of batchMatMulKernels.filter(wanted)) install(c, done);
  if (backend === 'wasm' || backend === 'cpu') {
    // gradients are global in tfjs: leave them alone for backends this package does not tune (tfjs-node)
    for (const g of [batchMatMulGrad, sumGrad]) {
      registerGradient(g);
      done.push(`grad:${g.kernelName}`);
    }
  }
  if (native) done.push('native:sgemm');
  if (backend === 'wasm' || backend === 'cpu') registerFusedOps(backend, wasmLoaded, done);

  if (!getGradient('GatherV2') || !getGradient('Conv2D')) {
    log(
      'fast kernels: tfjs-core gradients are not registered (import "@tensorflow/tfjs-core/dist/register_all_gradients" ' +
        'or "@tensorflow/tfjs"); gather/conv2d cannot be differentiated until they are',
    );
  }
  status.kernels = done;
  status.native = nativeMatMulActive();
  status.nativeReason = nativeReason;
  status.threads = native ? native.getThreads() : 1;
  status.nativeInfo = native ? native.info() : undefined;
  if (native) status.nativeReason = status.nativeInfo!;
  log(`fast kernels (${backend}): ${done.join(', ')}; native: ${nativeReason}`);
  return done;
}

/** What the last `registerFastKernels` call set up. */
export function fastKernelStatus(): FastKernelStatus {
  return { ...status, kernels: [...status.kernels] };
}

export type { NativeKernels } from './native-addon';
export { nativeAddonPath } from './native-addon';
