import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadImage } from '@synth2/core';
import { initBackend } from '@synth2/nn';
import { sharedDataDir, skipReason } from '@synth2/core/test';
import { VQTokenizer } from './vq-tokenizer';

const reason = skipReason('coco-mini');

describe.skipIf(reason !== undefined)('VQTokenizer on real photos (coco-mini)', () => {
  beforeAll(async () => {
    await initBackend({ log: () => {} });
  });

  it('should learn to reconstruct real COCO photos at 32×32 better than at initialisation', async () => {
    const dir = sharedDataDir('coco-mini')!;
    const lines = (await readFile(join(dir, 'index.jsonl'), 'utf8')).trim().split('\n').slice(0, 24);
    const n = lines.length;
    const data = new Float32Array(n * 32 * 32 * 3);
    for (let i = 0; i < n; i++) {
      const { file } = JSON.parse(lines[i]) as { file: string };
      const img = await loadImage(join(dir, file), { size: 32 });
      data.set(img.data, i * 3072);
    }
    const images = { data, shape: [n, 32, 32, 3] as [number, number, number, number] };
    const tok = VQTokenizer.create({ hidden: [16, 16], codebookSize: 64, codeDim: 8, seed: 2 });
    const before = await tok.evaluate(images);
    await tok.train(images, { steps: 120, batchSize: 8, lr: 5e-3, restartEvery: 20, log: () => {} });
    const after = await tok.evaluate(images);
    console.log(`coco-mini 32×32: PSNR ${before.psnr.toFixed(1)} → ${after.psnr.toFixed(1)} dB, ${after.usedCodes}/64 codes`);
    expect(after.psnr).toBeGreaterThan(before.psnr + 5);
    expect(after.psnr).toBeGreaterThan(15);
    expect(after.usedCodes).toBeGreaterThan(8);
    expect(tok.encode(images).shape).toEqual([n, 8, 8]);
  });
});
