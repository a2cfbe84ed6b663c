import { encodePng } from '@synth2/core';

/** PNG (base64) of an `S×S×3` image, float in [0, 1] or uint8. */
export async function encodePngBase64(pixels: Float32Array | Uint8Array, width: number, height: number): Promise<string> {
  return (await encodePng(pixels, width, height)).toString('base64');
}
