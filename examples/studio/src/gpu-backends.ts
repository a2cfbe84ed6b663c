import type { BackendOptions } from '@synth2/nn';

/**
 * How the page loads tfjs's GPU backends: each is its own chunk, fetched only when `initBackend` tries it (the
 * browser has the API). A package not installed when the page was built loads as a module that throws saying so
 * (see `vite.config.ts`), and the page falls back to the next backend with that reason.
 */
export const gpuBackendLoaders: NonNullable<BackendOptions['loaders']> = {
  webgpu: () => import('@tensorflow/tfjs-backend-webgpu'),
  webgl: () => import('@tensorflow/tfjs-backend-webgl'),
};
