import * as tf from '@tensorflow/tfjs-core';
import { ConfigurationError } from '../errors';

let checked = false;

/**
 * Makes sure tfjs's gradient functions are registered (tfjs-core registers them only through an ESM-only module,
 * `@tensorflow/tfjs-core/dist/register_all_gradients`, which bundlers and vitest load but plain Node cannot).
 * `initBackend()` from `@synth2/core/tf` registers them; this tries the module once, then throws a
 * `ConfigurationError` that says what to do.
 */
export async function ensureGradients(): Promise<void> {
  if (checked || hasGradients()) {
    checked = true;
    return;
  }
  try {
    await import('@tensorflow/tfjs-core/dist/register_all_gradients');
  } catch {
    // fall through to the check below
  }
  if (!hasGradients()) {
    throw new ConfigurationError(
      'tfjs gradients are not registered, so nothing can be trained: call `await initBackend()` from ' +
        "'@synth2/core/tf' first (or import '@tensorflow/tfjs-core/dist/register_all_gradients' through a bundler).",
      { setting: 'backend' },
    );
  }
  checked = true;
}

function hasGradients(): boolean {
  try {
    return tf.getGradient('MatMul') != null && tf.getGradient('Softmax') != null;
  } catch {
    return false;
  }
}
