import * as tf from '@tensorflow/tfjs-core';
import { ConfigurationError } from '@synth2/core';

/** Whether tfjs-core's gradient functions are registered. */
export function hasGradients(): boolean {
  return tf.getGradient('Softmax') != null && tf.getGradient('GatherV2') != null && tf.getGradient('Conv2D') != null;
}

/**
 * Browser build: registers tfjs-core's gradients and chained ops (`tensor.add(…)`) by importing their ES modules,
 * which the page's bundler resolves; throws `ConfigurationError` if that registers nothing.
 */
export async function registerTfjsExtras(): Promise<void> {
  if (!hasGradients()) await import('@tensorflow/tfjs-core/dist/register_all_gradients');
  if (typeof (tf.Tensor.prototype as unknown as { add?: unknown }).add !== 'function') {
    await import('@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops');
  }
  if (!hasGradients()) {
    throw new ConfigurationError(
      'tfjs gradients could not be registered (@tensorflow/tfjs-core/dist/register_all_gradients); check that the page bundles one copy of @tensorflow/tfjs-core.',
      { setting: 'backend' },
    );
  }
}
