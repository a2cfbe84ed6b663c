import { readFile, readdir, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidInputError } from '../errors';
import { sharedDataDir, skipReason } from '../test/shared-data';
import { makeTmpDir } from '../test/tmp-dir';
import { decodeImage, encodePng, loadImage, saveImageGrid, type ImageTensor } from './images';

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => ({ dir, cleanup } = await makeTmpDir()));
afterEach(() => cleanup());

/** 200×100 PNG: columns 0–49 red, 50–149 green, 150–199 blue. */
async function stripes(): Promise<Buffer> {
  const raw = Buffer.alloc(200 * 100 * 3);
  for (let y = 0; y < 100; y++) {
    for (let x = 0; x < 200; x++) {
      const c = x < 50 ? 0 : x < 150 ? 1 : 2;
      raw[(y * 200 + x) * 3 + c] = 255;
    }
  }
  return sharp(raw, { raw: { width: 200, height: 100, channels: 3 } })
    .png()
    .toBuffer();
}

function pixel(img: ImageTensor, x: number, y: number): number[] {
  const i = (y * img.width + x) * 3;
  return Array.from(img.data.subarray(i, i + 3)).map((v) => Math.round(v * 100) / 100);
}

describe('loadImage', () => {
  it('should load at native size as HWC floats in [0, 1]', async () => {
    const file = join(dir, 's.png');
    await writeFile(file, await stripes());
    const img = await loadImage(file);
    expect([img.width, img.height, img.channels, img.data.length]).toEqual([200, 100, 3, 200 * 100 * 3]);
    expect(pixel(img, 10, 10)).toEqual([1, 0, 0]);
    expect(pixel(img, 100, 50)).toEqual([0, 1, 0]);
    expect(pixel(img, 199, 99)).toEqual([0, 0, 1]);
  });

  it('should resize and centre-crop with cover', async () => {
    const file = join(dir, 's.png');
    await writeFile(file, await stripes());
    const img = await loadImage(file, { size: 16 });
    expect([img.width, img.height]).toEqual([16, 16]);
    // the centre 100×100 square is all green
    for (const [x, y] of [
      [2, 2],
      [13, 13],
      [8, 8],
      [2, 13],
    ]) {
      pixel(img, x, y).forEach((v, c) => expect(v).toBeCloseTo([0, 1, 0][c], 1));
    }
    // no red or blue survives beyond the resampling filter's reach at the borders
    expect(pixel(img, 0, 8)[0]).toBeLessThan(0.15);
  });

  it('should letterbox with contain', async () => {
    const file = join(dir, 's.png');
    await writeFile(file, await stripes());
    const img = await loadImage(file, {
      size: { width: 32, height: 32 },
      fit: 'contain',
      background: [1, 1, 1],
    });
    expect(pixel(img, 16, 0)).toEqual([1, 1, 1]); // padding above
    expect(pixel(img, 16, 31)).toEqual([1, 1, 1]); // padding below
    expect(pixel(img, 2, 16)).toEqual([1, 0, 0]);
    expect(pixel(img, 16, 16)).toEqual([0, 1, 0]);
    expect(pixel(img, 29, 16)).toEqual([0, 0, 1]);
  });

  it('should turn greyscale and transparent images into RGB', async () => {
    const grey = await sharp(Buffer.alloc(4 * 4, 51), { raw: { width: 4, height: 4, channels: 1 } })
      .png()
      .toBuffer();
    expect(pixel(await decodeImage(grey), 0, 0)).toEqual([0.2, 0.2, 0.2]);
    const rgba = await sharp(Buffer.from(new Array(16).fill([255, 0, 0, 0]).flat()), {
      raw: { width: 4, height: 4, channels: 4 },
    })
      .png()
      .toBuffer();
    expect(pixel(await decodeImage(rgba, { background: [0, 0, 1] }), 1, 1)).toEqual([0, 0, 1]);
  });

  it('should name a missing file', async () => {
    const error = await loadImage(join(dir, 'missing.jpg')).catch((e) => e);
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(/missing\.jpg: image file not found/);
    await mkdir(join(dir, 'folder.jpg'));
    await expect(loadImage(join(dir, 'folder.jpg'))).rejects.toThrow(
      /folder\.jpg: expected a image file but found a directory/,
    );
  });

  it('should name a corrupt or truncated image', async () => {
    const junk = join(dir, 'junk.png');
    await writeFile(junk, 'this is not a picture');
    const error = await loadImage(junk).catch((e) => e);
    expect(InvalidInputError.isInstance(error)).toBe(true);
    expect(error.file).toBe(junk);
    expect(error.message).toMatch(/junk\.png: cannot decode the image/);
    const jpeg = await sharp(await stripes())
      .jpeg()
      .toBuffer();
    const cut = join(dir, 'cut.jpg');
    await writeFile(cut, jpeg.subarray(0, Math.floor(jpeg.length * 0.6)));
    await expect(loadImage(cut, { size: 8 })).rejects.toThrow(
      /cut\.jpg: cannot decode the image \(.*premature end/i,
    );
    await expect(decodeImage(new Uint8Array(0))).rejects.toThrow(/expected non-empty image bytes/);
  });

  it('should reject bad options', async () => {
    const png = await stripes();
    await expect(decodeImage(png, { size: 0 })).rejects.toThrow(/size must be a positive integer/);
    await expect(decodeImage(png, { fit: 'fill' as 'cover' })).rejects.toThrow(
      /fit must be "cover" or "contain"/,
    );
  });

  const reason = skipReason('coco-mini/train2017');
  it.skipIf(reason)('should load real COCO photos at 64×64', async () => {
    const folder = sharedDataDir('coco-mini/train2017')!;
    const files = (await readdir(folder)).filter((f) => f.endsWith('.jpg')).slice(0, 4);
    for (const f of files) {
      const img = await loadImage(join(folder, f), { size: 64 });
      expect([img.width, img.height]).toEqual([64, 64]);
      let min = 1;
      let max = 0;
      let sum = 0;
      for (const v of img.data) {
        min = Math.min(min, v);
        max = Math.max(max, v);
        sum += v;
      }
      expect(min).toBeGreaterThanOrEqual(0);
      expect(max).toBeLessThanOrEqual(1);
      expect(max - min).toBeGreaterThan(0.3); // a photo, not a flat image
      expect(sum / img.data.length).toBeGreaterThan(0.05);
    }
  });
});

describe('encodePng', () => {
  it('should round-trip pixels through PNG', async () => {
    const data = new Float32Array([0, 0.5, 1, 1, 0, 0, 0.2, 0.4, 0.6, 2, -1, NaN]);
    const png = await encodePng(data, 2, 2);
    const back = await decodeImage(png);
    expect(Array.from(back.data, (v) => Math.round(v * 255))).toEqual([
      0, 128, 255, 255, 0, 0, 51, 102, 153, 255, 0, 0,
    ]);
    const grey = await encodePng(new Uint8Array([0, 255]), 2, 1);
    expect([pixel(await decodeImage(grey), 0, 0), pixel(await decodeImage(grey), 1, 0)]).toEqual([
      [0, 0, 0],
      [1, 1, 1],
    ]);
  });

  it('should reject data that does not fit the size', async () => {
    await expect(encodePng(new Float32Array(10), 2, 2)).rejects.toThrow(
      /10 values, which is not 2×2×\(1, 3 or 4\)/,
    );
    await expect(encodePng(new Float32Array(12), 0, 2)).rejects.toThrow(/positive integers/);
  });
});

describe('saveImageGrid', () => {
  it('should write one PNG with every image in its cell', async () => {
    const solid = (r: number, g: number, b: number, w = 4, h = 4): ImageTensor => {
      const data = new Float32Array(w * h * 3);
      for (let i = 0; i < w * h; i++) data.set([r, g, b], i * 3);
      return { data, width: w, height: h, channels: 3 };
    };
    const file = join(dir, 'report', 'grid.png');
    await saveImageGrid(file, [solid(1, 0, 0), solid(0, 1, 0), solid(0, 0, 1, 2, 2)], {
      columns: 2,
      padding: 1,
    });
    const grid = await decodeImage(await readFile(file));
    expect([grid.width, grid.height]).toEqual([2 * 4 + 3, 2 * 4 + 3]);
    expect(pixel(grid, 0, 0)).toEqual([1, 1, 1]);
    expect(pixel(grid, 1, 1)).toEqual([1, 0, 0]);
    expect(pixel(grid, 6, 1)).toEqual([0, 1, 0]);
    expect(pixel(grid, 3, 7)).toEqual([0, 0, 1]); // 2×2 image centred in the second row's first cell
    await expect(saveImageGrid(join(dir, 'x.png'), [])).rejects.toThrow(/no images/);
    await expect(
      saveImageGrid(join(dir, 'x.png'), [{ data: new Float32Array(5), width: 2, height: 2, channels: 3 }]),
    ).rejects.toThrow(/image 0 is not an RGB ImageTensor/);
    expect(await readdir(dir)).toEqual(['report']);
  });
});
