import { InvalidInputError } from '@synth2/core';
import { tf } from '@synth2/nn';

/** Raw pixels with their shape `[B, H, W, C]`: floats in [0, 1] or bytes in [0, 255]. */
export interface PixelArray {
  data: Float32Array | Uint8Array | Uint8ClampedArray;
  shape: [number, number, number, number];
}

/** Images accepted by the tokenizer: a tensor `[B, H, W, C]` (or one image `[H, W, C]`), floats in [0, 1] or int 0–255, or a {@link PixelArray}. */
export type ImageBatch = tf.Tensor | PixelArray;

/**
 * Converts images to a float32 tensor `[B, size, size, channels]` in [0, 1]. A wrong size or channel count throws
 * an `InvalidInputError` saying what was expected (resize images to the tokenizer's `imageSize` first).
 */
export function imagesToTensor(images: ImageBatch, size: number, channels: number): tf.Tensor4D {
  if (images == null) throw new InvalidInputError('no images given; pass a [B, H, W, C] tensor or { data, shape }');
  const isTensor = images instanceof tf.Tensor;
  const shape = isTensor ? (images as tf.Tensor).shape : (images as PixelArray).shape;
  const full = (shape.length === 3 ? [1, ...shape] : shape) as [number, number, number, number];
  if (full.length !== 4 || full[1] !== size || full[2] !== size || full[3] !== channels) {
    throw new InvalidInputError(
      `images must be ${size}×${size} with ${channels} channels ([B, ${size}, ${size}, ${channels}]), got shape [${shape}]; resize them to the tokenizer's imageSize first`,
    );
  }
  if (full[0] === 0) throw new InvalidInputError('the image batch is empty; pass at least one image');
  if (!isTensor) {
    const p = images as PixelArray;
    const expected = full.reduce((a, b) => a * b, 1);
    if (p.data.length !== expected) {
      throw new InvalidInputError(`pixel array has ${p.data.length} values but shape [${shape}] needs ${expected}`);
    }
  }
  return tf.tidy(() => {
    let t: tf.Tensor;
    if (isTensor) {
      t = images as tf.Tensor;
      if (t.dtype !== 'float32') t = tf.div(tf.cast(t, 'float32'), 255);
    } else {
      const p = images as PixelArray;
      t = p.data instanceof Float32Array ? tf.tensor(p.data, full) : tf.div(tf.tensor(Float32Array.from(p.data), full), 255);
    }
    return tf.reshape(t, full) as tf.Tensor4D;
  });
}
