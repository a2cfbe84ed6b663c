import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailableError, ConfigurationError } from '@synth2/core';
import { describeBackendInfo, memoizedBackendInit } from './backend-common';
import { registerTfjsExtras } from './backend-gradients';
import { registerFastKernels } from './kernels';

/** The backends `initBackend` can select in a browser, fastest first. */
export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

/** The npm package that provides each backend (webgpu and webgl: import it in the page to make it available). */
export const BACKEND_PACKAGES: Readonly<Record<BackendName, string>> = {
  webgpu: '@tensorflow/tfjs-backend-webgpu',
  webgl: '@tensorflow/tfjs-backend-webgl',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

export interface BackendOptions {
  /** Force a backend; forcing one that cannot start throws `BackendUnavailableError`. */
  backend?: BackendName;
  /**
   * Where the wasm backend's `.wasm` files are served (a URL prefix ending in `/`, e.g. `new URL('tfjs-wasm/',
   * location.href).href`); default: tfjs's own lookup beside the script.
   */
  wasmPaths?: string;
  /** Accepted for symmetry with Node; browsers choose wasm threads themselves. */
  threads?: number;
  /** Accepted for symmetry with Node; the native addon never runs in a browser. */
  native?: boolean;
  log?: (msg: string) => void;
}

export interface BackendInfo {
  name: BackendName;
  /** Why this backend was chosen (and why faster ones were not). */
  reason: string;
  threads: number;
  native: false;
  path: BackendName;
  kernels: string[];
  simd?: boolean;
  tfBackend: string;
}

function unavailable(name: BackendName, why: string, cause?: unknown): BackendUnavailableError {
  return new BackendUnavailableError(`backend "${name}" is unavailable: ${why}.`, {
    backend: name,
    packageName: BACKEND_PACKAGES[name],
    cause,
  });
}

async function setBackend(name: BackendName): Promise<void> {
  let ok = false;
  try {
    ok = await tf.setBackend(name);
  } catch (error) {
    throw unavailable(name, `it failed to initialise (${(error as Error).message})`, error);
  }
  if (!ok) throw unavailable(name, 'it failed to initialise');
}

/** webgpu / webgl: used when the page registered the backend (imported its package) and the browser has the API. */
async function tryGpu(name: 'webgpu' | 'webgl'): Promise<void> {
  if (!tf.findBackendFactory(name)) throw unavailable(name, `${BACKEND_PACKAGES[name]} is not imported by the page`);
  const nav = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator;
  if (name === 'webgpu' && !(nav?.gpu && (await nav.gpu.requestAdapter()))) throw unavailable(name, 'this browser has no WebGPU adapter');
  await setBackend(name);
}

async function tryWasm(options: BackendOptions): Promise<void> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (options.wasmPaths !== undefined) wasm.setWasmPaths(options.wasmPaths);
  await setBackend('wasm');
}

async function tryCpu(): Promise<void> {
  await import('@tensorflow/tfjs-backend-cpu');
  await setBackend('cpu');
}

async function select(options: BackendOptions): Promise<BackendInfo> {
  const log = options.log ?? (() => {});
  const order = options.backend ? [options.backend] : [...BACKEND_NAMES];
  const skipped: string[] = [];
  let chosen: BackendName | undefined;
  for (const name of order) {
    try {
      if (name === 'webgpu' || name === 'webgl') await tryGpu(name);
      else if (name === 'wasm') await tryWasm(options);
      else await tryCpu();
      chosen = name;
      break;
    } catch (error) {
      if (options.backend) throw error;
      skipped.push(`${name}: ${(error as Error).message.replace(/^backend "[^"]+" is unavailable: /, '').replace(/\.$/, '')}`);
    }
  }
  if (!chosen) throw new BackendUnavailableError(`no tfjs backend could start in this browser (${skipped.join('; ')})`, { backend: 'any', packageName: BACKEND_PACKAGES.wasm });
  await registerTfjsExtras();
  const kernels = await registerFastKernels(chosen, { native: false, log });
  const simd = chosen === 'wasm' ? Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) : undefined;
  const because = options.backend ? `forced by options.backend=${options.backend}` : skipped.length ? `auto: ${skipped.join('; ')}` : 'auto: first available';
  return {
    name: chosen,
    tfBackend: tf.getBackend(),
    reason: because,
    threads: 1,
    native: false,
    path: chosen,
    kernels,
    ...(simd === undefined ? {} : { simd }),
  };
}

const initOnce = memoizedBackendInit(select, describeBackend);

/**
 * Browser build: selects webgpu (when the page imported `@tensorflow/tfjs-backend-webgpu` and the browser has an
 * adapter), else webgl (when the page imported `@tensorflow/tfjs-backend-webgl`), else wasm, else cpu. Registers
 * tfjs-core's gradients and this package's portable kernels. Idempotent for the same request.
 */
export async function initBackend(options: BackendOptions = {}): Promise<BackendInfo> {
  if (options.backend !== undefined && !BACKEND_NAMES.includes(options.backend)) {
    throw new ConfigurationError(`unknown backend "${options.backend}"; in a browser use one of ${BACKEND_NAMES.join(', ')}.`, { setting: 'backend' });
  }
  const key = JSON.stringify([options.backend ?? 'auto', options.wasmPaths ?? null]);
  return initOnce(key, options);
}

/** One line for logs: `backend wasm (SIMD, 1 thread, 9 fast kernels): auto: webgpu: …`. */
export function describeBackend(info: BackendInfo): string {
  return describeBackendInfo(info);
}
