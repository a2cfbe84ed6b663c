import { InvalidInputError, readSafetensors, writeSafetensors, type TensorDType } from '@synth2/core';

/** Pixels of a split: `[N, S, S, 3]` uint8, stored as safetensors. */
export interface ImageSet {
  data: Uint8Array;
  shape: [number, number, number, number];
}

/** A grid of token ids per image: `[N, h, w]` int32. */
export interface TokenSet {
  data: Int32Array;
  shape: [number, number, number];
}

/** One named tensor per file: what the data stage (images) and the tokenizer stage (token grids) cache. */
async function loadOne(file: string, name: string, dtype: TensorDType, rank: number, stage: string) {
  const t = (await readSafetensors(file)).tensors[name];
  if (!t || t.dtype !== dtype || t.shape.length !== rank) {
    throw new InvalidInputError(`expected a ${dtype} tensor "${name}" of rank ${rank}; rerun the ${stage} stage.`, { file });
  }
  return t;
}

export async function saveImages(file: string, images: ImageSet): Promise<void> {
  await writeSafetensors(file, { images: { dtype: 'U8', shape: images.shape, data: images.data } });
}

export async function loadImages(file: string): Promise<ImageSet> {
  const t = await loadOne(file, 'images', 'U8', 4, 'data');
  return { data: t.data as Uint8Array, shape: t.shape as ImageSet['shape'] };
}

export async function saveTokens(file: string, tokens: TokenSet): Promise<void> {
  await writeSafetensors(file, { tokens: { dtype: 'I32', shape: tokens.shape, data: tokens.data } });
}

export async function loadTokens(file: string): Promise<TokenSet> {
  const t = await loadOne(file, 'tokens', 'I32', 3, 'tokenizer');
  return { data: t.data as Int32Array, shape: t.shape as TokenSet['shape'] };
}

/** Uint8 HWC → float32 in [0, 1]. */
export function toUnitFloat(images: ImageSet): { data: Float32Array; shape: [number, number, number, number] } {
  const out = new Float32Array(images.data.length);
  for (let i = 0; i < out.length; i++) out[i] = images.data[i] / 255;
  return { data: out, shape: images.shape };
}

export function sliceImages(images: ImageSet, indices: readonly number[]): ImageSet {
  const per = images.shape[1] * images.shape[2] * images.shape[3];
  const data = new Uint8Array(indices.length * per);
  indices.forEach((idx, k) => data.set(images.data.subarray(idx * per, (idx + 1) * per), k * per));
  return { data, shape: [indices.length, images.shape[1], images.shape[2], images.shape[3]] };
}
