import * as tf from '@tensorflow/tfjs-core';
import { InvalidInputError, type Rng } from '@synth2/core';

/**
 * Inverted dropout: zeroes each element with probability `rate` and scales the rest by `1/(1−rate)`.
 * The mask is drawn from `rng`, so a run is reproducible (and resumable) from its seed. Identity when not training.
 */
export function dropout<T extends tf.Tensor>(x: T, rate: number, rng: Rng, training: boolean): T {
  if (!(rate >= 0 && rate < 1)) throw new InvalidInputError(`dropout rate must be in [0, 1), got ${rate}`);
  if (!training || rate === 0) return x;
  if (!rng) throw new InvalidInputError('dropout while training needs an Rng (pass the trainer\'s ctx.rng)');
  const keep = 1 - rate;
  const scale = 1 / keep;
  const mask = new Float32Array(x.size);
  const threshold = keep * 4294967296; // one 32-bit draw per element
  for (let i = 0; i < mask.length; i++) mask[i] = rng.nextUint32() < threshold ? scale : 0;
  return tf.tidy(() => tf.mul(x, tf.tensor(mask, x.shape, 'float32')) as T);
}
