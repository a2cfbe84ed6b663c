/**
 * `@synth2/nn`'s browser entry: the same API as Node's (modules with a `.browser.ts` twin swap in the browser build),
 * with the browser's backend selection and its types (webgpu, webgl, wasm, cpu) in place of Node's.
 */
export * from './index';
export { initBackend, describeBackend, BACKEND_NAMES, BACKEND_PACKAGES } from './tf/backend.browser';
export type { BackendName, BackendOptions, BackendInfo, GpuBackendLoader } from './tf/backend.browser';
