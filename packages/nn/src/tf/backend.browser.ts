import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailableError, ConfigurationError } from '@synth2/core';
import { describeBackendInfo, memoizedBackendInit } from './backend-common';
import { registerTfjsExtras } from './backend-gradients';
import { registerFastKernels } from './kernels';

/** The backends `initBackend` can select in a browser, fastest first. */
export type BackendName = 'webgpu' | 'webgl' | 'wasm' | 'cpu';
/** The backends `initBackend` can select in a browser, fastest first. */
export const BACKEND_NAMES: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];
type GpuBackendName = 'webgpu' | 'webgl';

/** The npm package that provides each backend (webgpu and webgl: imported by the page, or loaded by `options.loaders`). */
export const BACKEND_PACKAGES: Readonly<Record<BackendName, string>> = {
  webgpu: '@tensorflow/tfjs-backend-webgpu',
  webgl: '@tensorflow/tfjs-backend-webgl',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
};

/** Loads a GPU backend's package, e.g. `() => import('@tensorflow/tfjs-backend-webgl')`; called only when it is tried. */
export type GpuBackendLoader = () => Promise<unknown>;

/** Options of `initBackend` in a browser. */
export interface BackendOptions {
  /** Force a backend; forcing one that cannot start throws `BackendUnavailableError`. */
  backend?: BackendName;
  /**
   * How to load the GPU backends' packages when they are tried (so a page downloads webgpu / webgl code only when
   * the browser can run it). A backend whose package the page already imported needs no loader.
   */
  loaders?: Partial<Record<GpuBackendName, GpuBackendLoader>>;
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

/** The backend `initBackend` selected in a browser, and why. */
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

/** The parts of WebGPU and WebGL this file reads (the package builds without the DOM typings). */
interface GpuAdapterLike {
  isFallbackAdapter?: boolean;
  info?: { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean };
}
interface NavigatorLike {
  gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> };
}
interface GlLike {
  RENDERER: number;
  getParameter(name: number): unknown;
  getExtension(name: string): { UNMASKED_RENDERER_WEBGL?: number; loseContext?(): void } | null;
}
interface CanvasLike {
  getContext(kind: 'webgl2' | 'webgl'): GlLike | null;
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** What a GPU backend found: the device, for `BackendInfo.reason`, and whether it is a software renderer. */
interface GpuDevice {
  about: string;
  software: boolean;
}

/** Renderers that draw on the CPU (what browsers fall back to without a usable GPU). */
const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|software rasterizer|basic render driver/i;

/** webgpu: the browser's adapter, as `WebGPU (vendor architecture)`; throws why there is none. */
async function probeWebGpu(): Promise<GpuDevice> {
  const gpu = (globalThis as { navigator?: NavigatorLike }).navigator?.gpu;
  if (!gpu) throw unavailable('webgpu', 'this browser has no WebGPU (navigator.gpu is absent)');
  let adapter: GpuAdapterLike | null;
  try {
    adapter = await gpu.requestAdapter();
  } catch (error) {
    throw unavailable('webgpu', `requesting a WebGPU adapter failed (${message(error)})`, error);
  }
  if (!adapter) throw unavailable('webgpu', 'this browser has no WebGPU adapter');
  const about = [adapter.info?.vendor, adapter.info?.architecture, adapter.info?.description].filter(Boolean).join(' ');
  const software = Boolean(adapter.info?.isFallbackAdapter ?? adapter.isFallbackAdapter) || SOFTWARE_RENDERER.test(about);
  return { about: about ? `WebGPU (${about})` : 'WebGPU', software };
}

function probeCanvas(): CanvasLike | undefined {
  const g = globalThis as { OffscreenCanvas?: new (w: number, h: number) => CanvasLike; document?: { createElement(tag: 'canvas'): CanvasLike } };
  if (g.OffscreenCanvas) return new g.OffscreenCanvas(1, 1);
  return g.document?.createElement('canvas');
}

/** webgl: the browser's WebGL version and renderer, as `WebGL 2 (renderer)`; throws why there is none. */
function probeWebGl(): GpuDevice {
  const canvas = probeCanvas();
  if (!canvas) throw unavailable('webgl', 'there is no canvas here (not a browser page or worker)');
  const gl2 = canvas.getContext('webgl2');
  const gl = gl2 ?? canvas.getContext('webgl');
  if (!gl) throw unavailable('webgl', 'this browser gives no WebGL context (GPU disabled or blocklisted)');
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(gl.getParameter(debug?.UNMASKED_RENDERER_WEBGL ?? gl.RENDERER) ?? 'unknown renderer');
  gl.getExtension('WEBGL_lose_context')?.loseContext?.();
  return { about: `WebGL ${gl2 ? 2 : 1} (${renderer})`, software: SOFTWARE_RENDERER.test(renderer) };
}

/** Registers a GPU backend through its loader unless the page already did; throws why it could not. */
async function loadGpuPackage(name: GpuBackendName, loader: GpuBackendLoader | undefined): Promise<void> {
  const pkg = BACKEND_PACKAGES[name];
  if (tf.findBackendFactory(name)) return;
  if (!loader) throw unavailable(name, `${pkg} is not loaded by the page (import it, or pass loaders.${name}: a function that imports ${pkg})`);
  try {
    await loader();
  } catch (error) {
    throw unavailable(name, `${pkg} failed to load (${message(error)})`, error);
  }
  if (!tf.findBackendFactory(name)) {
    throw unavailable(name, `loading ${pkg} registered no "${name}" backend with this page's @tensorflow/tfjs-core (the page bundles two copies of it: dedupe @tensorflow/tfjs-core)`);
  }
}

/**
 * webgpu / webgl: the browser must have the API (checked before the package is loaded), the package must be loaded
 * (by the page or `options.loaders`) and the backend must start. Chosen automatically, the device must not be a
 * software renderer (it runs these models slower than wasm) and webgl must render float32 textures (with float16
 * ones the float32 models' outputs drift from every other backend's). Returns the device.
 */
async function tryGpu(name: GpuBackendName, options: BackendOptions): Promise<string> {
  const device = name === 'webgpu' ? await probeWebGpu() : probeWebGl();
  if (device.software && !options.backend) throw unavailable(name, `${device.about} is a software renderer, slower than wasm`);
  await loadGpuPackage(name, options.loaders?.[name]);
  await setBackend(name);
  if (name === 'webgl') {
    const float32 = tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED');
    if (!float32 && !options.backend) throw unavailable(name, `${device.about} renders only float16 textures, too coarse for these float32 models`);
    return `${device.about}, ${float32 ? 'float32' : 'float16'} textures`;
  }
  return device.about;
}

async function tryWasm(options: BackendOptions): Promise<string> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (options.wasmPaths !== undefined) wasm.setWasmPaths(options.wasmPaths);
  await setBackend('wasm');
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  const threads = wasm.getThreadsCount?.() ?? 1;
  return `SIMD ${simd ? 'on' : 'off'}, ${threads === 1 ? '1 thread' : `${threads} threads`}`;
}

async function tryCpu(): Promise<string> {
  await import('@tensorflow/tfjs-backend-cpu');
  await setBackend('cpu');
  return 'plain JavaScript';
}

function tryBackend(name: BackendName, options: BackendOptions): Promise<string> {
  if (name === 'webgpu' || name === 'webgl') return tryGpu(name, options);
  return name === 'wasm' ? tryWasm(options) : tryCpu();
}

/** Why `name` was skipped, without the error's `backend "x" is unavailable:` prefix. */
function skippedBecause(name: BackendName, error: unknown): string {
  return `${name}: ${message(error).replace(/^backend "[^"]+" is unavailable: /, '').replace(/\.$/, '')}`;
}

async function select(options: BackendOptions): Promise<BackendInfo> {
  const log = options.log ?? (() => {});
  const order = options.backend ? [options.backend] : [...BACKEND_NAMES];
  const skipped: string[] = [];
  let chosen: { name: BackendName; detail: string } | undefined;
  for (const name of order) {
    try {
      chosen = { name, detail: await tryBackend(name, options) };
      break;
    } catch (error) {
      if (options.backend) throw error;
      skipped.push(skippedBecause(name, error));
    }
  }
  if (!chosen) throw new BackendUnavailableError(`no tfjs backend could start in this browser (${skipped.join('; ')})`, { backend: 'any', packageName: BACKEND_PACKAGES.wasm });
  await registerTfjsExtras();
  const kernels = await registerFastKernels(chosen.name, { native: false, log });
  const simd = chosen.name === 'wasm' ? Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) : undefined;
  const threads = chosen.name === 'wasm' ? ((await import('@tensorflow/tfjs-backend-wasm')).getThreadsCount?.() ?? 1) : 1;
  const because = options.backend ? `forced by options.backend=${options.backend}` : skipped.length ? `auto: ${skipped.join('; ')}` : 'auto: first available';
  return {
    name: chosen.name,
    tfBackend: tf.getBackend(),
    reason: `${because}; ${chosen.detail}`,
    threads,
    native: false,
    path: chosen.name,
    kernels,
    ...(simd === undefined ? {} : { simd }),
  };
}

const initOnce = memoizedBackendInit(select, describeBackend);

/**
 * Browser build: selects webgpu (the browser has a hardware WebGPU adapter and `@tensorflow/tfjs-backend-webgpu` is
 * loaded by the page or `options.loaders.webgpu`), else webgl (a hardware WebGL context with float32 textures and
 * `@tensorflow/tfjs-backend-webgl` loaded likewise), else wasm, else cpu; `options.backend` forces one. `reason` says
 * why each faster backend was skipped and what the chosen one runs on. Registers tfjs-core's gradients and this
 * package's portable kernels. Idempotent for the same request.
 */
export async function initBackend(options: BackendOptions = {}): Promise<BackendInfo> {
  if (options.backend !== undefined && !BACKEND_NAMES.includes(options.backend)) {
    throw new ConfigurationError(`unknown backend "${options.backend}"; in a browser use one of ${BACKEND_NAMES.join(', ')}.`, { setting: 'backend' });
  }
  const key = JSON.stringify([options.backend ?? 'auto', options.wasmPaths ?? null, Object.keys(options.loaders ?? {}).sort()]);
  return initOnce(key, options);
}

/** One line for logs: `backend wasm (SIMD, 1 thread, 9 fast kernels): auto: webgpu: …`. */
export function describeBackend(info: BackendInfo): string {
  return describeBackendInfo(info);
}
