/**
 * `@synth2/nn`: tfjs backend selection and the shared tfjs-core instance. Every package imports `tf` from here
 * so that all of them use one engine.
 */
/** TensorFlow.js core: the one tfjs instance every @synth2 package uses. */
export * as tf from '@tensorflow/tfjs-core';
export { initBackend, describeBackend, BACKEND_NAMES, BACKEND_PACKAGES } from './backend';
export type { BackendName, BackendOptions, BackendInfo } from './backend';
export { registerFastKernels } from './kernels';
