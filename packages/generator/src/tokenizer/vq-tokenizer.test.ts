import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointMismatchError, ConfigurationError, InvalidInputError } from '@synth2/core';
import { initBackend, tf } from '@synth2/nn';
import { makeTmpDir } from '@synth2/core/test';
import { VQTokenizer, trainTokenizer } from './vq-tokenizer';

/** n 16×16 images: a coloured square (varying colour, place and size) on a plain background. */
function toyImages(n: number): { data: Float32Array; shape: [number, number, number, number] } {
  const S = 16;
  const data = new Float32Array(n * S * S * 3);
  const colors = [
    [0.9, 0.1, 0.1],
    [0.1, 0.8, 0.2],
    [0.2, 0.3, 0.9],
    [0.9, 0.9, 0.1],
  ];
  for (let i = 0; i < n; i++) {
    const bg = i % 2 === 0 ? 0.15 : 0.4;
    const c = colors[i % colors.length];
    const x0 = (i * 3) % 8;
    const y0 = (i * 5) % 8;
    const side = 4 + (i % 3) * 2;
    for (let y = 0; y < S; y++)
      for (let x = 0; x < S; x++) {
        const inside = x >= x0 && x < x0 + side && y >= y0 && y < y0 + side;
        for (let ch = 0; ch < 3; ch++) data[((i * S + y) * S + x) * 3 + ch] = inside ? c[ch] : bg;
      }
  }
  return { data, shape: [n, S, S, 3] };
}

const small = { imageSize: 16, hidden: [16, 16], resBlocks: 1, codebookSize: 64, codeDim: 8, seed: 1 };

let tmp: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  await initBackend({ log: () => {} });
  tmp = await makeTmpDir('synth2-gen-tok-');
});
afterAll(async () => tmp?.cleanup());

describe('VQTokenizer', () => {
  let trained: VQTokenizer;

  it('should overfit a handful of images to a high PSNR and use several codes', async () => {
    const images = toyImages(8);
    trained = VQTokenizer.create(small);
    const before = await trained.evaluate(images);
    const result = await trainTokenizer(trained, images, { steps: 400, batchSize: 8, lr: 5e-3, restartEvery: 25, log: () => {} });
    const after = await trained.evaluate(images);
    expect(result.steps).toBe(400);
    console.log(`tokenizer overfit: PSNR ${before.psnr.toFixed(1)} → ${after.psnr.toFixed(1)} dB, ${after.usedCodes} codes`);
    expect(after.psnr).toBeGreaterThan(26);
    expect(after.psnr).toBeGreaterThan(before.psnr + 10);
    expect(after.usedCodes).toBeGreaterThanOrEqual(4);
    expect(after.usedCodes + after.deadCodes).toBe(64);
    expect(after.perplexity).toBeGreaterThan(2);
  });

  it('should resume an interrupted training (dead-code restarts included) to exactly the uninterrupted weights', async () => {
    const images = toyImages(8);
    const opts = { steps: 60, batchSize: 4, lr: 5e-3, restartEvery: 10, checkpointEvery: 10, log: () => {} };
    const full = VQTokenizer.create(small);
    const uninterrupted = await trainTokenizer(full, images, { ...opts, checkpointDir: join(tmp.dir, 'tok-full') });
    const first = VQTokenizer.create(small);
    const controller = new AbortController();
    const dir = join(tmp.dir, 'tok-resumed');
    await trainTokenizer(first, images, { ...opts, checkpointDir: dir, abortSignal: controller.signal, onProgress: (e) => e.step === 25 && controller.abort() });
    first.dispose();
    const second = VQTokenizer.create(small);
    // other weights than the start: everything must come from the checkpoint
    for (const v of second.parameters().values()) v.assign(tf.randomNormal(v.shape, 0, 0.5, 'float32', 99));
    const resumed = await trainTokenizer(second, images, { ...opts, checkpointDir: dir });
    expect(resumed.resumedFrom).toBe(25);
    expect(resumed.losses.slice(-20)).toEqual(uninterrupted.losses.slice(-20));
    const restarted = (r: typeof resumed) => r.evals.map((e) => e.metrics.restartedCodes);
    expect(restarted(resumed)).toEqual(restarted(uninterrupted));
    expect(restarted(uninterrupted).some((n) => n! > 0)).toBe(true);
    for (const [name, v] of full.parameters()) {
      expect(Buffer.from(second.parameters().get(name)!.dataSync().buffer), name).toEqual(Buffer.from(v.dataSync().buffer));
    }
    full.dispose();
    second.dispose();
  });

  it('should encode to [B,h,w] ids, embed to codebook rows [B,h·w,d] and decode to images', () => {
    const images = toyImages(3);
    const ids = trained.encode(images);
    expect(ids.shape).toEqual([3, 4, 4]);
    expect(ids.dtype).toBe('int32');
    const emb = trained.embed(ids);
    expect(emb.shape).toEqual([3, 16, 8]);
    // the embedding of a token is exactly its codebook row
    const id0 = ids.dataSync()[0];
    const row = trained.codebook.arraySync() as number[][];
    expect(Array.from(emb.dataSync().slice(0, 8))).toEqual(row[id0].map((v) => Math.fround(v)));
    const rec = trained.decode(ids);
    expect(rec.shape).toEqual([3, 16, 16, 3]);
    const [lo, hi] = [tf.min(rec).dataSync()[0], tf.max(rec).dataSync()[0]];
    expect(lo).toBeGreaterThanOrEqual(0);
    expect(hi).toBeLessThanOrEqual(1);
    tf.dispose([ids, emb, rec]);
  });

  it('should reload from a checkpoint to identical tokens and reconstructions', async () => {
    const dir = join(tmp.dir, 'tok');
    await trained.save(dir);
    const again = await VQTokenizer.load(dir);
    const images = toyImages(4);
    const a = trained.encode(images);
    const b = again.encode(images);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(Array.from(again.decode(b).dataSync())).toEqual(Array.from(trained.decode(a).dataSync()));
  });

  it('should reject images of the wrong size with a clear error', () => {
    const wrong = { data: new Float32Array(2 * 32 * 32 * 3), shape: [2, 32, 32, 3] as [number, number, number, number] };
    expect(() => trained.encode(wrong)).toThrow(InvalidInputError);
    expect(() => trained.encode(wrong)).toThrow(/16×16 with 3 channels.*got shape \[2,32,32,3\]/);
    expect(() => trained.encode(tf.zeros([2, 16, 16, 1]))).toThrow(/3 channels/);
    expect(() => trained.embed(tf.zeros([1, 8, 8], 'int32') as tf.Tensor3D)).toThrow(/\[B, 4, 4\]/);
  });

  it('should reject a checkpoint of another architecture or another kind', async () => {
    const dir = join(tmp.dir, 'tok-big');
    const other = VQTokenizer.create({ ...small, codebookSize: 128 });
    await other.save(dir);
    // same kind, different shapes: loading into a model built from *our* config must fail, naming the tensor
    const { loadCheckpoint } = await import('@synth2/nn');
    await expect(loadCheckpoint(dir, VQTokenizer.create(small))).rejects.toThrow(CheckpointMismatchError);
    await expect(loadCheckpoint(dir, VQTokenizer.create(small))).rejects.toThrow(/codebook/);
    const notTok = join(tmp.dir, 'not-a-tokenizer');
    await mkdir(notTok, { recursive: true });
    await writeFile(join(notTok, 'config.json'), JSON.stringify({ kind: 'synth2-token-generator' }));
    await expect(VQTokenizer.load(notTok)).rejects.toThrow(CheckpointMismatchError);
  });

  it('should reject invalid settings with a ConfigurationError naming the setting', () => {
    expect(() => VQTokenizer.create({ codebookSize: 1 })).toThrow(ConfigurationError);
    expect(() => VQTokenizer.create({ codebookSize: 1 })).toThrow(/codebookSize/);
    expect(() => VQTokenizer.create({ imageSize: 30, hidden: [8, 8] })).toThrow(/not divisible/);
    expect(() => VQTokenizer.create({ bogus: 1 } as never)).toThrow(ConfigurationError);
  });
});
