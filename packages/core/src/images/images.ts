import { readFile, stat } from 'node:fs/promises';
import type { Sharp, SharpOptions } from 'sharp';
import { ConfigurationError, InvalidInputError } from '../errors';
import { fileError } from '../internal/file-error';
import { writeFileAtomic } from '../io/atomic-write';

/** An RGB image as floats: `data[(y * width + x) * 3 + c]` in [0, 1] (HWC, row-major). */
export interface ImageTensor {
  data: Float32Array;
  width: number;
  height: number;
  channels: 3;
}

/** Options of `loadImage` and `decodeImage`. */
export interface LoadImageOptions {
  /** Target size: `S` for S×S, or `{ width, height }`. Absent: the image's own size. */
  size?: number | { width: number; height: number };
  /**
   * `cover` (default): scale so the image fills the target, then centre-crop; `contain`: scale to fit inside and
   * pad with `background`.
   */
  fit?: 'cover' | 'contain';
  /** Padding colour for `contain` and the colour behind transparent pixels, RGB in [0, 1] (default black). */
  background?: [number, number, number];
}

type SharpFactory = (input?: string | Buffer | Uint8Array, options?: SharpOptions) => Sharp;
let sharpModule: Promise<SharpFactory> | undefined;

/** sharp is imported on first use only (it loads native libvips). */
async function getSharp(): Promise<SharpFactory> {
  sharpModule ??= import('sharp').then(
    (m) => (m as { default?: SharpFactory }).default ?? (m as unknown as SharpFactory),
    (error: unknown) => {
      sharpModule = undefined;
      const code = (error as { code?: string }).code;
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
        throw new ConfigurationError(
          'reading or writing images needs the optional peer dependency "sharp": run `npm install sharp`.',
          { setting: 'sharp', cause: error },
        );
      }
      throw error;
    },
  );
  return sharpModule;
}

function targetSize(size: LoadImageOptions['size']): { width: number; height: number } | undefined {
  if (size === undefined) return undefined;
  const s = typeof size === 'number' ? { width: size, height: size } : size;
  if (!Number.isInteger(s?.width) || !Number.isInteger(s?.height) || s.width < 1 || s.height < 1) {
    throw new InvalidInputError(
      `size must be a positive integer or { width, height } of positive integers, got ${JSON.stringify(size)}.`,
      {
        field: 'size',
      },
    );
  }
  return s;
}

function rgb255(c: [number, number, number] | undefined): { r: number; g: number; b: number; alpha: number } {
  const [r, g, b] = c ?? [0, 0, 0];
  const to = (v: number) => Math.round(Math.min(1, Math.max(0, v)) * 255);
  return { r: to(r), g: to(g), b: to(b), alpha: 1 };
}

async function decode(
  input: string | Uint8Array,
  name: string,
  options: LoadImageOptions,
): Promise<ImageTensor> {
  const fit = options.fit ?? 'cover';
  if (fit !== 'cover' && fit !== 'contain') {
    throw new InvalidInputError(`fit must be "cover" or "contain", got ${JSON.stringify(fit)}.`, {
      field: 'fit',
    });
  }
  const size = targetSize(options.size);
  const sharp = await getSharp();
  const background = rgb255(options.background);
  let result: { data: Buffer; info: { width: number; height: number; channels: number } };
  try {
    let pipeline = sharp(input as Buffer, { failOn: 'warning' })
      .rotate() // apply EXIF orientation
      .flatten({ background })
      .toColourspace('srgb');
    if (size) pipeline = pipeline.resize(size.width, size.height, { fit, position: 'centre', background });
    result = await pipeline.raw().toBuffer({ resolveWithObject: true });
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    throw new InvalidInputError(
      `cannot decode the image (${message}). The file is corrupt or not a supported image (JPEG, PNG, WebP, GIF, TIFF, AVIF); re-export or remove it.`,
      { file: name, cause: error },
    );
  }
  const { data, info } = result;
  if (info.channels !== 3) {
    throw new InvalidInputError(`decoded to ${info.channels} channels instead of 3.`, { file: name });
  }
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] / 255;
  return { data: out, width: info.width, height: info.height, channels: 3 };
}

/**
 * Loads a JPEG/PNG/… file as RGB floats in [0, 1] (HWC), optionally resized to S×S with a centre crop (`cover`)
 * or letterboxing (`contain`). A missing or corrupt file throws `InvalidInputError` naming it.
 */
export async function loadImage(path: string, options: LoadImageOptions = {}): Promise<ImageTensor> {
  try {
    const s = await stat(path);
    if (!s.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
  } catch (error) {
    throw fileError(path, error, 'image file');
  }
  return decode(path, path, options);
}

/** Decodes an image held in memory (see `loadImage`); `name` is used in error messages. */
export async function decodeImage(
  bytes: Uint8Array,
  options: LoadImageOptions & { name?: string } = {},
): Promise<ImageTensor> {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) {
    throw new InvalidInputError('expected non-empty image bytes (a Buffer or Uint8Array).', {
      file: options.name,
      field: 'bytes',
    });
  }
  return decode(bytes, options.name ?? '<buffer>', options);
}

/** Loads an image file's bytes (for callers that cache or hash them) with the same errors as `loadImage`. */
export async function readImageBytes(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw fileError(path, error, 'image file');
  }
}

/**
 * Encodes pixels as PNG. `data` is HWC with 1, 3 or 4 channels (inferred from its length): floats in [0, 1]
 * (clamped) or bytes.
 */
export async function encodePng(
  data: Float32Array | Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
): Promise<Buffer> {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new InvalidInputError(`width and height must be positive integers, got ${width}×${height}.`, {
      field: 'width',
    });
  }
  const channels = data.length / (width * height);
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw new InvalidInputError(
      `data has ${data.length} values, which is not ${width}×${height}×(1, 3 or 4) channels. Check width, height and layout (HWC).`,
      { field: 'data' },
    );
  }
  let bytes: Uint8Array;
  if (data instanceof Float32Array) {
    bytes = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      bytes[i] = Number.isNaN(v) ? 0 : Math.round(Math.min(1, Math.max(0, v)) * 255);
    }
  } else
    bytes =
      data instanceof Uint8ClampedArray ? new Uint8Array(data.buffer, data.byteOffset, data.length) : data;
  const sharp = await getSharp();
  return sharp(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), {
    raw: { width, height, channels: channels as 1 | 3 | 4 },
  })
    .png()
    .toBuffer();
}

/** Options of `saveImageGrid`. */
export interface ImageGridOptions {
  /** Images per row (default: ⌈√n⌉). */
  columns?: number;
  /** Pixels between cells and around the grid (default 2). */
  padding?: number;
  /** Grid colour, RGB in [0, 1] (default white). */
  background?: [number, number, number];
}

/**
 * Saves images side by side as one PNG (for reports), atomically. Cells are as large as the largest image; smaller
 * images are centred.
 */
export async function saveImageGrid(
  path: string,
  images: readonly ImageTensor[],
  options: ImageGridOptions = {},
): Promise<void> {
  if (images.length === 0) throw new InvalidInputError('no images to put in the grid.', { field: 'images' });
  images.forEach((img, i) => {
    if (!img || img.channels !== 3 || img.data?.length !== img.width * img.height * 3) {
      throw new InvalidInputError(
        `image ${i} is not an RGB ImageTensor (data length must be width × height × 3).`,
        {
          field: `images.${i}`,
        },
      );
    }
  });
  const columns = options.columns ?? Math.ceil(Math.sqrt(images.length));
  if (!Number.isInteger(columns) || columns < 1) {
    throw new InvalidInputError(`columns must be a positive integer, got ${columns}.`, { field: 'columns' });
  }
  const pad = options.padding ?? 2;
  const rows = Math.ceil(images.length / columns);
  const cellW = Math.max(...images.map((i) => i.width));
  const cellH = Math.max(...images.map((i) => i.height));
  const W = columns * cellW + (columns + 1) * pad;
  const H = rows * cellH + (rows + 1) * pad;
  const grid = new Float32Array(W * H * 3);
  const [br, bg, bb] = options.background ?? [1, 1, 1];
  for (let p = 0; p < W * H; p++) {
    grid[p * 3] = br;
    grid[p * 3 + 1] = bg;
    grid[p * 3 + 2] = bb;
  }
  images.forEach((img, k) => {
    const x0 = pad + (k % columns) * (cellW + pad) + Math.floor((cellW - img.width) / 2);
    const y0 = pad + Math.floor(k / columns) * (cellH + pad) + Math.floor((cellH - img.height) / 2);
    for (let y = 0; y < img.height; y++) {
      grid.set(img.data.subarray(y * img.width * 3, (y + 1) * img.width * 3), ((y0 + y) * W + x0) * 3);
    }
  });
  await writeFileAtomic(path, await encodePng(grid, W, H));
}
