import { loadImage, type ImageTensor, type LoadImageOptions } from '@synth2/core';

/** Decodes (and resizes) an image file through `@synth2/core`'s image IO: RGB floats in [0, 1], HWC. */
export function decodeImageFile(path: string, options: LoadImageOptions): Promise<ImageTensor> {
  return loadImage(path, options);
}
