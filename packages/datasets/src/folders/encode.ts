import { encodePng } from '@synth2/core';

/** Encodes 8-bit RGB HWC pixels as PNG through `@synth2/core`'s image IO. */
export function encodeRgbPng(pixels: Uint8Array, width: number, height: number): Promise<Uint8Array> {
  return encodePng(pixels, width, height);
}
