import { cpus } from 'node:os';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailableError, ConfigurationError } from '@synth2/core';
import { fastKernelStatus, registerFastKernels } from './kernels';
import { describeBackendInfo, memoizedBackendInit } from './backend-common';
import { registerTfjsExtras } from './backend-gradients';
import { resolvePackagePath } from './backend-locate';
import { installThreadedWasm, wantedWasmThreads, type ThreadedWasmResult } from './wasm-threads';

/** The backends `initBackend` can select, fastest first. */
export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
/** The backends `initBackend` can select, fastest first. */
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

/** The npm package that provides each backend. */
export const BACKEND_PACKAGES: Readonly<Record<BackendName, string>> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

/** Options of `initBackend`. */
export interface BackendOptions {
  /** Force a backend (beats env `SYNTH2_BACKEND`); forcing one that cannot load throws `BackendUnavailableError`. */
  backend?: BackendName;
  /**
   * Threads for tfjs-node, the native matmul addon and wasm. On wasm the default is env `SYNTH2_THREADS`, else 1:
   * wasm threads spin while idle, so use them only in a process that has the cores to itself (fixed once wasm started).
   */
  threads?: number;
  /** true: require the native kernel addon; false: never use it; default: use it when built. */
  native?: boolean;
  log?: (msg: string) => void;
}

/** The backend `initBackend` selected, and why. */
export interface BackendInfo {
  name: BackendName;
  /** Why this backend was chosen (and why faster ones were not). */
  reason: string;
  threads: number;
  /** Whether native code (libtensorflow or the native kernel addon) runs the heavy ops. */
  native: boolean;
  /**
   * The compute path: `tensorflow-gpu` / `tensorflow` (libtensorflow), `native` (wasm backend with this package's
   * native kernels), `wasm` (portable), `cpu` (plain JavaScript).
   */
  path: 'tensorflow-gpu' | 'tensorflow' | 'native' | 'wasm' | 'cpu';
  /** On the native path: the addon's description, e.g. `synth2 sgemm avx512f, 1 thread`. */
  nativeKernels?: string;
  /** Fast kernels and gradients registered by `registerFastKernels`. */
  kernels: string[];
  /** For wasm: whether SIMD is in use. */
  simd?: boolean;
  /** The tfjs backend name (`tensorflow`, `wasm`, `cpu`). */
  tfBackend: string;
}

function isInstalled(pkg: string): boolean {
  return resolvePackagePath(pkg) !== undefined;
}

// A real dynamic import for the CommonJS build (its bundler turns `import()` into `require`).
const nativeImport = new Function('specifier', 'return import(specifier)') as (s: string) => Promise<unknown>;

/**
 * Imports an optional package by the path `isInstalled` found, so that the check and the import agree on which
 * copy is used (and nothing is imported when it is missing).
 */
async function importPackage(pkg: string): Promise<unknown> {
  const path = resolvePackagePath(pkg);
  if (!path) throw Object.assign(new Error(`Cannot find package '${pkg}'`), { code: 'ERR_MODULE_NOT_FOUND' });
  const url = pathToFileURL(path).href;
  try {
    return await import(/* @vite-ignore */ url);
  } catch (error) {
    // The CommonJS build turns import() into require(), which cannot take a URL: import natively instead. (A module
    // that threw while evaluating is cached as failed, so this never evaluates a package twice.)
    if (typeof __filename !== 'string') throw error;
    return nativeImport(url);
  }
}

function requested(options: BackendOptions): { name?: BackendName; from: string } {
  if (options.backend !== undefined) {
    if (!BACKEND_NAMES.includes(options.backend)) {
      throw new ConfigurationError(
        `unknown backend "${options.backend}"; use one of ${BACKEND_NAMES.join(', ')}.`,
        { setting: 'backend' },
      );
    }
    return { name: options.backend, from: 'options.backend' };
  }
  const env = process.env.SYNTH2_BACKEND?.trim();
  if (env) {
    if (!BACKEND_NAMES.includes(env as BackendName)) {
      throw new ConfigurationError(
        `SYNTH2_BACKEND="${env}" is not a backend; use one of ${BACKEND_NAMES.join(', ')} (or unset it to choose automatically).`,
        { setting: 'SYNTH2_BACKEND' },
      );
    }
    return { name: env as BackendName, from: 'SYNTH2_BACKEND' };
  }
  return { from: 'auto' };
}

/** The native tensorflow package imported in this process, if any: only one may ever be. */
let nativePackage: BackendName | undefined;

function unavailable(name: BackendName, why: string, cause?: unknown): BackendUnavailableError {
  const pkg = BACKEND_PACKAGES[name];
  return new BackendUnavailableError(
    `backend "${name}" is unavailable: ${why}. Install it with \`npm install ${pkg}\`, or choose another backend.`,
    {
      backend: name,
      packageName: pkg,
      cause,
    },
  );
}

async function tryNative(name: 'tensorflow-gpu' | 'tensorflow'): Promise<void> {
  const pkg = BACKEND_PACKAGES[name];
  if (nativePackage && nativePackage !== name) {
    throw unavailable(
      name,
      `${BACKEND_PACKAGES[nativePackage]} is already loaded in this process (only one native TensorFlow package may be)`,
    );
  }
  if (!nativePackage && !isInstalled(pkg)) throw unavailable(name, `${pkg} is not installed`);
  nativePackage = name;
  try {
    await importPackage(pkg);
  } catch (error) {
    throw unavailable(name, `${pkg} failed to load (${(error as Error).message})`, error);
  }
  if (!(await tf.setBackend('tensorflow')))
    throw unavailable(name, `${pkg} loaded but its "tensorflow" backend did not initialise`);
}

/** Set when the wasm backend was registered: its threads, or why it runs single-threaded. */
let wasmThreads: ThreadedWasmResult | undefined;

async function tryTfjsBackend(name: 'wasm' | 'cpu', options: BackendOptions): Promise<void> {
  const pkg = BACKEND_PACKAGES[name];
  if (!tf.findBackendFactory(name) || (name === 'wasm' && !wasmThreads)) {
    if (!isInstalled(pkg)) throw unavailable(name, `${pkg} is not installed`);
    let loaded: unknown;
    try {
      loaded = await importPackage(pkg);
    } catch (error) {
      throw unavailable(name, `${pkg} failed to load (${(error as Error).message})`, error);
    }
    if (name === 'wasm') wasmThreads = await installThreadedWasm(wantedWasmThreads(options.threads), loaded);
  }
  let ok = false;
  try {
    ok = await tf.setBackend(name);
  } catch (error) {
    throw unavailable(name, `the ${name} backend failed to initialise (${(error as Error).message})`, error);
  }
  if (!ok) throw unavailable(name, `the ${name} backend failed to initialise`);
}

async function select(options: BackendOptions): Promise<BackendInfo> {
  const log = options.log ?? (() => {});
  const want = requested(options);
  const order: BackendName[] = want.name ? [want.name] : [...BACKEND_NAMES];
  const skipped: string[] = [];
  let chosen: BackendName | undefined;
  for (const name of order) {
    // Only one native TensorFlow package is ever imported: once one was tried, the other is not.
    if (
      !want.name &&
      nativePackage &&
      (name === 'tensorflow' || name === 'tensorflow-gpu') &&
      nativePackage !== name
    ) {
      skipped.push(`${name}: ${BACKEND_PACKAGES[nativePackage]} already loaded`);
      continue;
    }
    try {
      if (name === 'tensorflow-gpu' || name === 'tensorflow') await tryNative(name);
      else await tryTfjsBackend(name, options);
      chosen = name;
      break;
    } catch (error) {
      if (want.name) throw error;
      const why = BackendUnavailableError.isInstance(error)
        ? error.message.replace(/^backend "[^"]+" is unavailable: /, '').replace(/\. Install it.*$/, '')
        : String(error);
      skipped.push(`${name}: ${why}`);
    }
  }
  if (!chosen) {
    throw new BackendUnavailableError(
      `no tfjs backend could be loaded (${skipped.join('; ')}). Install @tensorflow/tfjs-core with @tensorflow/tfjs-backend-wasm or @tensorflow/tfjs-backend-cpu.`,
      { backend: 'any', packageName: '@tensorflow/tfjs-backend-wasm' },
    );
  }
  await registerTfjsExtras();
  if (chosen === 'cpu') tf.env().set('PROD', true); // silences tfjs's "install tfjs-node" banner

  let threads = 1;
  let simd: boolean | undefined;
  if (chosen === 'wasm') {
    simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
    const wasm = (await importPackage(BACKEND_PACKAGES.wasm)) as { getThreadsCount?: () => number };
    threads = wasm.getThreadsCount?.() ?? 1;
  } else if (chosen === 'tensorflow' || chosen === 'tensorflow-gpu') {
    threads = options.threads ?? cpus().length;
  }
  const kernels = await registerFastKernels(chosen === 'tensorflow-gpu' ? 'tensorflow' : chosen, {
    threads: options.threads,
    native: options.native,
    log,
  });
  const status = fastKernelStatus();
  const nativeAddon = status.native || kernels.some((k) => k.startsWith('native:'));
  if (nativeAddon) threads = Math.max(threads, status.threads);
  const because =
    want.name !== undefined
      ? `forced by ${want.from}=${want.name}`
      : skipped.length > 0
        ? `auto: ${skipped.join('; ')}`
        : 'auto: first available';
  const wasmThreadsNote = `${threads > 1 ? `${threads} threads` : `single-threaded${wasmThreads && 'reason' in wasmThreads ? ` (${wasmThreads.reason})` : ''}`}`;
  const extra =
    chosen === 'wasm'
      ? nativeAddon
        ? `; SIMD ${simd ? 'on' : 'off'}, native kernels ${status.nativeInfo ?? ''}`
        : `; SIMD ${simd ? 'on' : 'off'}, ${wasmThreadsNote}; ${status.nativeReason}`
      : '';
  const path: BackendInfo['path'] =
    chosen === 'wasm' ? (nativeAddon ? 'native' : 'wasm') : chosen === 'tensorflow-gpu' ? 'tensorflow-gpu' : chosen;
  return {
    name: chosen,
    tfBackend: tf.getBackend(),
    reason: `${because}${extra}`,
    threads,
    native: chosen === 'tensorflow' || chosen === 'tensorflow-gpu' || nativeAddon,
    path,
    ...(nativeAddon && status.nativeInfo ? { nativeKernels: status.nativeInfo } : {}),
    kernels,
    ...(simd === undefined ? {} : { simd }),
  };
}

const initOnce = memoizedBackendInit(select, describeBackend);

/**
 * Selects the tfjs backend: `@tensorflow/tfjs-node-gpu`, then `@tensorflow/tfjs-node` (optional peers, imported only
 * when installed; only one of them is ever imported), else wasm (SIMD), else cpu. `options.backend` or env
 * `SYNTH2_BACKEND` forces one. Registers tfjs-core's gradients and chained ops and this package's fast kernels.
 * Idempotent: a repeated call with the same request returns the same info; a different request switches backend.
 */
export async function initBackend(options: BackendOptions = {}): Promise<BackendInfo> {
  const want = requested(options);
  const key = JSON.stringify([want.name ?? 'auto', options.threads ?? null, options.native ?? null]);
  return initOnce(key, options);
}

/**
 * One line for logs: `backend wasm (SIMD, 1 thread, native kernels, 14 fast kernels): auto: …; SIMD on, native
 * kernels synth2 sgemm avx512f, 1 thread`, or on portable wasm the reason the native kernels are not used and how
 * to get them.
 */
export function describeBackend(info: BackendInfo): string {
  return describeBackendInfo(info);
}
