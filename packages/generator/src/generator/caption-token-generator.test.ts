import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointMismatchError, InvalidInputError, Rng } from '@synth2/core';
import { initBackend, tf } from '@synth2/nn';
import { makeTmpDir } from '@synth2/core/test';
import { VQTokenizer } from '../tokenizer/vq-tokenizer';
import { CaptionTokenGenerator } from './caption-token-generator';
import { generateEmbeddings, generateEmbeddingsViaPixels, generateImages } from './generate';
import { writeEmbeddingShards } from './embedding-shards';
import { groupTokens } from '../data/token-grid';

const K = 16;
const captions = ['a red circle on the left', 'a blue square at the top', 'a green star in the center', 'two yellow hearts'];
/** One fixed random 4×4 grid of ids per caption. */
const grids = captions.map((_, i) => {
  const rng = new Rng(100 + i);
  return Array.from({ length: 16 }, () => rng.int(K));
});
/** Share of the training grids' 64 tokens that sampled ids `[4, 4, 4]` reproduce. */
function reproduced(ids: tf.Tensor): number {
  const got = ids.dataSync();
  let same = 0;
  grids.forEach((g, i) => g.forEach((v, j) => (same += +(got[i * 16 + j] === v))));
  return same / 64;
}
/**
 * Trains `g` on the four pairs until it reproduces ≥ 90% of their tokens, saves it to `name` under `dir`, reloads it
 * and checks that the reloaded generator gives the same samples; returns the reloaded generator.
 */
async function overfitAndReload(g: CaptionTokenGenerator, dir: string, seed: number): Promise<CaptionTokenGenerator> {
  const examples = captions.map((caption, i) => ({ caption, tokens: grids[i] }));
  const res = await g.train(examples, { steps: 300, batchSize: 4, lr: 5e-3, warmupSteps: 20, log: () => {} });
  expect(res.finalLoss).toBeLessThan(res.losses[0] / 5);
  expect(reproduced(await g.generateTokens(captions, { steps: 4, temperature: 0, guidanceScale: 1, seed: 0 }))).toBeGreaterThanOrEqual(0.9);
  await g.save(dir);
  const again = await CaptionTokenGenerator.load(dir);
  const sample = { steps: 4, temperature: 1, seed };
  expect(Array.from((await again.generateTokens(captions, sample)).dataSync())).toEqual(
    Array.from((await g.generateTokens(captions, sample)).dataSync()),
  );
  return again;
}
const tiny = {
  captions,
  gridHeight: 4,
  gridWidth: 4,
  codebookSize: K,
  group: 2,
  dim: 32,
  heads: 2,
  layers: 2,
  captionLayers: 1,
  maxCaptionLength: 8,
  labelSmoothing: 0,
  seed: 3,
};

let tmp: { dir: string; cleanup: () => Promise<void> };
let gen: CaptionTokenGenerator;
beforeAll(async () => {
  await initBackend({ log: () => {} });
  tmp = await makeTmpDir('synth2-gen-');
});
afterAll(async () => tmp?.cleanup());

describe('CaptionTokenGenerator', () => {
  it('should overfit a handful of caption–token pairs and reproduce their tokens', async () => {
    gen = CaptionTokenGenerator.create(tiny);
    const examples = captions.map((caption, i) => ({ caption, tokens: grids[i] }));
    const res = await gen.train(examples, { steps: 300, batchSize: 4, lr: 5e-3, warmupSteps: 20, log: () => {} });
    expect(res.losses[res.losses.length - 1]).toBeLessThan(res.losses[0] / 5);
    const ids = await gen.generateTokens(captions, { steps: 4, temperature: 0, guidanceScale: 1, seed: 0 });
    expect(ids.shape).toEqual([4, 4, 4]);
    const same = reproduced(ids);
    console.log(`generator overfit: ${same * 64}/64 tokens reproduced, loss ${res.losses[0].toFixed(2)} → ${res.finalLoss.toFixed(3)}`);
    expect(same).toBeGreaterThanOrEqual(0.95);
    // sampled with temperature and guidance it still follows the caption
    expect(reproduced(await gen.generateTokens(captions, { steps: 4, temperature: 0.5, guidanceScale: 2, seed: 1 }))).toBeGreaterThanOrEqual(0.8);
  });

  it('should score only the masked positions in training, with the same logits and loss as scoring every position', () => {
    const g = CaptionTokenGenerator.create({ ...tiny, codebookDim: 0 });
    const P = g.positions;
    const G = g.perPosition;
    const B = captions.length;
    const enc = g.encodeCaptions(captions);
    const grouped = groupTokens(Int32Array.from(grids.flat()), B, g.geometry);
    const t = g.batchTensors({ size: B, words: enc.words, wordMask: enc.mask, targets: grouped }, new Rng(5), false);
    const rows = Array.from(t.rows.dataSync());
    const inputs = t.inputs.dataSync();
    // exactly the masked positions (the mask id of slot s is s·(K+1) + K), each with its G targets
    const masked = [...Array(B * P).keys()].filter((r) => inputs[r * G] === K);
    expect(rows).toEqual(masked);
    expect(rows.length).toBeGreaterThan(0);
    expect(Array.from(t.targets.dataSync())).toEqual(rows.flatMap((r) => Array.from(grouped.subarray(r * G, (r + 1) * G))));
    tf.tidy(() => {
      const cap = g.network.encodeCaption(t.words, t.wordMask);
      const all = g.network.predict(t.inputs, cap, t.wordMask);
      const some = g.network.predict(t.inputs, cap, t.wordMask, false, undefined, undefined, t.rows);
      expect(some.shape).toEqual([rows.length, 1, G, K]);
      const picked = tf.gather(tf.reshape(all, [B * P, G, K]), t.rows);
      expect(tf.max(tf.abs(tf.sub(picked, tf.reshape(some, [rows.length, G, K])))).dataSync()[0]).toBeLessThan(1e-5);
      // the loss is the mean cross-entropy of the masked positions' tokens
      const logp = tf.logSoftmax(tf.reshape(picked, [rows.length * G, K]));
      const ref = -tf.mean(tf.sum(tf.mul(logp, tf.cast(tf.oneHot(t.targets, K), 'float32')), 1)).dataSync()[0];
      expect(g.loss(t, new Rng(0), false).dataSync()[0]).toBeCloseTo(ref, 4);
    });
    tf.dispose([t.words, t.wordMask, t.inputs, t.targets, t.weights, t.rows]);
    g.network.dispose();
  });

  it('should start its word and token embeddings at embeddingInitStd, train from there and keep the setting in its checkpoint', async () => {
    const embStd = (g: CaptionTokenGenerator) =>
      [...g.network.parameters()]
        .filter(([name]) => name.includes('caption.words') || name.includes('tokens.embed'))
        .map(([, v]) => tf.tidy(() => tf.sqrt(tf.moments(v).variance).dataSync()[0]));
    const plain = CaptionTokenGenerator.create(tiny);
    for (const s of embStd(plain)) expect(s).toBeCloseTo(0.02, 2);
    const unit = CaptionTokenGenerator.create({ ...tiny, embeddingInitStd: 1 });
    const stds = embStd(unit);
    expect(stds).toHaveLength(2);
    for (const s of stds) expect(Math.abs(s - 1)).toBeLessThan(0.1);
    const again = await overfitAndReload(unit, join(tmp.dir, 'unit-init'), 2);
    expect(again.config.embeddingInitStd).toBe(1);
    expect(() => CaptionTokenGenerator.create({ ...tiny, embeddingInitStd: 0 })).toThrow(/embeddingInitStd/);
    for (const g of [plain, unit, again]) g.network.dispose();
  });

  it('should add a k×k convolution over the position grid before every block with convKernel, learn with it and reload it', async () => {
    const convParams = (g: CaptionTokenGenerator) =>
      [...g.network.parameters()].filter(([name]) => /blocks\.\d+\.conv\.weight/.test(name)).map(([, v]) => v.shape);
    expect(convParams(CaptionTokenGenerator.create(tiny))).toEqual([]);
    const conv = CaptionTokenGenerator.create({ ...tiny, convKernel: 3 });
    expect(convParams(conv)).toEqual(Array.from({ length: tiny.layers }, () => [3, 3, tiny.dim, tiny.dim]));
    const again = await overfitAndReload(conv, join(tmp.dir, 'conv'), 3);
    expect(again.config.convKernel).toBe(3);
    expect(() => CaptionTokenGenerator.create({ ...tiny, convKernel: 2 })).toThrow(/convKernel.*odd/);
    for (const g of [conv, again]) g.network.dispose();
  });

  it('should give the same samples for the same seed, independent of the batch size', async () => {
    const a = await gen.generateTokens(captions, { steps: 4, temperature: 1.5, seed: 7 });
    const b = await gen.generateTokens(captions, { steps: 4, temperature: 1.5, seed: 7, batchSize: 3 });
    const c = await gen.generateTokens(captions, { steps: 4, temperature: 1.5, seed: 8 });
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(Array.from(c.dataSync())).not.toEqual(Array.from(a.dataSync()));
  });

  it('should reload from a checkpoint and give identical samples for the same seed', async () => {
    const dir = join(tmp.dir, 'gen');
    await gen.save(dir);
    const again = await CaptionTokenGenerator.load(dir);
    const opts = { steps: 4, temperature: 1, guidanceScale: 2, seed: 5 };
    const a = await gen.generateTokens(captions, opts);
    const b = await again.generateTokens(captions, opts);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
  });

  it('should keep its frequency weights in the checkpoint and undo their bias when sampling with priorCorrection', async () => {
    // code 0 is common (weight < 1), the others rare: frequency weighting makes rare codes count more in the loss
    const skewed = captions.map((_, i) => Array.from({ length: 16 }, (_, j) => (j % 4 === 0 ? 1 + ((i + j) % (K - 1)) : 0)));
    const g = CaptionTokenGenerator.create({ ...tiny, frequencyWeighting: 1 });
    await g.train(captions.map((caption, i) => ({ caption, tokens: skewed[i] })), { steps: 60, batchSize: 4, lr: 5e-3, warmupSteps: 5, log: () => {} });
    const logW = Array.from(g.network.codeLogWeight.dataSync());
    expect(logW[0]).toBeLessThan(0);
    expect(logW[1]).toBeGreaterThan(0);
    const dir = join(tmp.dir, 'weighted');
    await g.save(dir);
    const back = await CaptionTokenGenerator.load(dir);
    expect(Array.from(back.network.codeLogWeight.dataSync())).toEqual(logW);
    // a code with an enormous training weight is never drawn once the bias is fully undone
    const big = logW.slice();
    big[0] = 80;
    back.network.codeLogWeight.assign(tf.tensor1d(big));
    const opts = { steps: 4, temperature: 0, guidanceScale: 1, seed: 0 };
    const corrected = Array.from((await back.generateTokens(captions, { ...opts, priorCorrection: 1 })).dataSync());
    const plain = Array.from((await back.generateTokens(captions, { ...opts, priorCorrection: 0 })).dataSync());
    expect(corrected.filter((v) => v === 0)).toHaveLength(0);
    expect(plain.filter((v) => v === 0).length).toBeGreaterThan(0);
    g.dispose();
    back.dispose();
  });

  it('should read and predict tokens through a tokenizer codebook (codebookDim, axial positions), learn, and reload it', async () => {
    const g = CaptionTokenGenerator.create({ ...tiny, codebookDim: 4, axialPositions: true });
    const examples = captions.map((caption, i) => ({ caption, tokens: grids[i] }));
    await expect(g.train(examples, { steps: 1 })).rejects.toThrow(/setCodebook/);
    expect(() => g.setCodebook(tf.zeros([K, 5]) as tf.Tensor2D)).toThrow(/must be \[16, 4\]/);
    const codebook = tf.randomNormal([K, 4], 3, 2, 'float32', 9) as tf.Tensor2D;
    g.setCodebook(codebook);
    const stored = g.network.codebook!;
    // standardised: mean 0 per dimension, unit RMS overall
    expect(Math.abs(tf.mean(stored).dataSync()[0])).toBeLessThan(1e-5);
    expect(tf.sqrt(tf.mean(tf.square(stored))).dataSync()[0]).toBeCloseTo(1, 4);
    const res = await g.train(examples, { steps: 300, batchSize: 4, lr: 5e-3, warmupSteps: 20, log: () => {} });
    expect(res.finalLoss).toBeLessThan(res.losses[0] / 5);
    const opts = { steps: 4, temperature: 0, guidanceScale: 1, seed: 0 };
    expect(reproduced(await g.generateTokens(captions, opts))).toBeGreaterThanOrEqual(0.95);
    const dir = join(tmp.dir, 'with-codebook');
    await g.save(dir);
    const back = await CaptionTokenGenerator.load(dir);
    expect(Array.from(back.network.codebook!.dataSync())).toEqual(Array.from(stored.dataSync()));
    const sampling = { steps: 4, temperature: 1, guidanceScale: 2, seed: 4 };
    expect(Array.from((await back.generateTokens(captions, sampling)).dataSync())).toEqual(
      Array.from((await g.generateTokens(captions, sampling)).dataSync()),
    );
    expect(() => gen.setCodebook(codebook)).toThrow(/codebookDim 0/);
    codebook.dispose();
    g.dispose();
    back.dispose();
  });

  it('should take grid, codebook size and (with codebookDim) the code vectors from a tokenizer', () => {
    const tokenizer = VQTokenizer.create({ imageSize: 16, hidden: [8, 8], codebookSize: K, codeDim: 4, seed: 2 });
    const { gridHeight: _h, gridWidth: _w, codebookSize: _k, ...sizes } = tiny;
    const plain = CaptionTokenGenerator.forTokenizer(tokenizer, sizes);
    expect([plain.config.gridHeight, plain.config.gridWidth, plain.config.codebookSize, plain.config.codebookDim]).toEqual([4, 4, K, 0]);
    const tied = CaptionTokenGenerator.forTokenizer(tokenizer, { ...sizes, codebookDim: 1 });
    expect(tied.config.codebookDim).toBe(4);
    expect(tf.max(tf.abs(tied.network.codebook!)).dataSync()[0]).toBeGreaterThan(0);
    plain.dispose();
    tied.dispose();
    tokenizer.dispose();
  });

  it('should reject an empty caption and unknown words with clear errors', async () => {
    await expect(gen.generateTokens(['a red circle', ''])).rejects.toThrow(InvalidInputError);
    await expect(gen.generateTokens(['a red circle', '   '])).rejects.toThrow(/caption 1 is empty/);
    await expect(gen.generateTokens(['a purple zebra'])).rejects.toThrow(/does not know: purple, zebra/);
    await expect(gen.generateTokens([])).rejects.toThrow(/no captions/);
    await expect(gen.train([{ caption: 'a red circle', tokens: [1, 2, 3] }], { steps: 1 })).rejects.toThrow(/4×4 grid/);
    await expect(gen.train([{ caption: 'a red circle', tokens: new Array(16).fill(K) }], { steps: 1 })).rejects.toThrow(/outside \[0, 16\)/);
  });

  it('should reject a checkpoint made for another architecture', async () => {
    const dir = join(tmp.dir, 'gen-wide');
    const wide = CaptionTokenGenerator.create({ ...tiny, dim: 48 });
    await wide.save(dir);
    const cfg = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    cfg.generator.dim = 32; // config says 32, tensors are 48 wide
    await writeFile(join(dir, 'config.json'), JSON.stringify(cfg));
    await expect(CaptionTokenGenerator.load(dir)).rejects.toThrow(CheckpointMismatchError);
    const tokDir = join(tmp.dir, 'a-tokenizer');
    await VQTokenizer.create({ imageSize: 16, hidden: [8, 8], codebookSize: K, codeDim: 4 }).save(tokDir);
    await expect(CaptionTokenGenerator.load(tokDir)).rejects.toThrow(/not a caption-token generator checkpoint/);
  });
});

describe('generateEmbeddings / generateImages / generateEmbeddingsViaPixels / writeEmbeddingShards', () => {
  const tok = () => VQTokenizer.create({ imageSize: 16, hidden: [8, 8], codebookSize: K, codeDim: 4, seed: 2 });

  it('should produce codebook embeddings, images and re-encoded embeddings of the right shapes', async () => {
    const tokenizer = tok();
    const e = await generateEmbeddings({ generator: gen, tokenizer, captions, steps: 4, seed: 0 });
    expect(e.shape).toEqual([4, 16, 4]);
    const ids = await gen.generateTokens(captions, { steps: 4, seed: 0 });
    expect(Array.from(e.dataSync())).toEqual(Array.from(tokenizer.embed(ids).dataSync()));
    const img = await generateImages({ generator: gen, tokenizer, captions, steps: 4, seed: 0 });
    expect(img.shape).toEqual([4, 16, 16, 3]);
    const viaPixels = await generateEmbeddingsViaPixels({ generator: gen, tokenizer, captions, steps: 4, seed: 0, batchSize: 3 });
    expect(viaPixels.shape).toEqual([4, 16, 4]);
    tf.dispose([e, ids, img, viaPixels]);
  });

  it('should keep, of N candidates per caption, the one the scorer rates best (best-of-N re-ranking)', async () => {
    const tokenizer = tok();
    // a scorer that prefers embeddings close to the caption's training grid
    const truth = tokenizer.embed(tf.tensor3d(grids.flat(), [4, 4, 4], 'int32'));
    const target = truth.dataSync().slice();
    truth.dispose();
    let calls = 0;
    const scorer = {
      score: async (e: tf.Tensor3D, caps: readonly string[]) => {
        calls++;
        const x = e.dataSync();
        return Float32Array.from(caps, (c, b) => {
          const i = captions.indexOf(c);
          let d = 0;
          for (let k = 0; k < 64; k++) d += (x[b * 64 + k] - target[i * 64 + k]) ** 2;
          return -d;
        });
      },
    };
    const sampling = { steps: 2, temperature: 3, guidanceScale: 0, seed: 5 };
    const plain = await generateEmbeddings({ generator: gen, tokenizer, captions, ...sampling });
    const one = await generateEmbeddings({ generator: gen, tokenizer, captions, ...sampling, rerank: { scorer, candidates: 1 } });
    expect(Array.from(one.dataSync())).toEqual(Array.from(plain.dataSync()));
    let first: Float32Array = new Float32Array();
    let kept: Float32Array = new Float32Array();
    const best = await generateEmbeddings({
      generator: gen,
      tokenizer,
      captions,
      ...sampling,
      rerank: { scorer, candidates: 4, onScores: (f, k) => ([first, kept] = [f, k]) },
    });
    // the candidates, sampled one by one from each caption's own generator (candidate c: Rng(seed).fork(i).fork(c))
    const cands = await Promise.all(
      [0, 1, 2, 3].map(async (c) => {
        const ids = await gen.generateTokens(captions, { ...sampling, candidate: c });
        const e = tokenizer.embed(ids);
        ids.dispose();
        return e;
      }),
    );
    const scores = await Promise.all(cands.map((e) => scorer.score(e, captions)));
    expect(calls).toBe(1 + 4 + 4);
    expect(Array.from(first)).toEqual(Array.from(scores[0]));
    let improved = 0;
    captions.forEach((_, b) => {
      const winner = scores.reduce((w, s, c) => (s[b] > scores[w][b] ? c : w), 0);
      expect(kept[b]).toBe(scores[winner][b]);
      expect(Array.from(best.dataSync().slice(b * 64, (b + 1) * 64))).toEqual(Array.from(cands[winner].dataSync().slice(b * 64, (b + 1) * 64)));
      improved += +(winner > 0);
    });
    expect(improved).toBeGreaterThan(0);
    await expect(generateEmbeddings({ generator: gen, tokenizer, captions, rerank: { scorer, candidates: 0 } })).rejects.toThrow(/candidates must be/);
    const wrong = { score: () => new Float32Array(1) };
    await expect(generateEmbeddings({ generator: gen, tokenizer, captions, rerank: { scorer: wrong, candidates: 2 } })).rejects.toThrow(/1 scores for 4 captions/);
    tf.dispose([plain, one, best, ...cands]);
  });

  it('should refuse a tokenizer that does not match the generator', async () => {
    const other = VQTokenizer.create({ imageSize: 32, hidden: [8, 8], codebookSize: K, codeDim: 4 });
    await expect(generateEmbeddings({ generator: gen, tokenizer: other, captions })).rejects.toThrow(InvalidInputError);
    await expect(generateEmbeddings({ generator: gen, tokenizer: other, captions })).rejects.toThrow(/makes 4×4 grids .* tokenizer has 8×8 grids/);
  });

  it('should write embedding shards with record ids, resume, and write nothing for bad captions', async () => {
    const tokenizer = tok();
    const dir = join(tmp.dir, 'shards');
    const records = Array.from({ length: 10 }, (_, i) => ({ id: `syn-${i}`, text: captions[i % 4] }));
    const m1 = await writeEmbeddingShards({ generator: gen, tokenizer, records: records.slice(0, 6), dir, shardSize: 4, steps: 4, seed: 1, batchSize: 4 });
    expect(m1.total).toBe(6);
    const m2 = await writeEmbeddingShards({ generator: gen, tokenizer, records, dir, shardSize: 4, steps: 4, seed: 1, batchSize: 4 });
    expect(m2.kind).toBe('image-embeddings');
    expect(m2.total).toBe(10);
    expect(m2.complete).toBe(true);
    expect(m2.tensors.embeddings).toEqual({ dtype: 'F32', shape: [16, 4] });
    expect(m2.tensors.tokens).toEqual({ dtype: 'I32', shape: [16] });
    const { ShardedTensorReader } = await import('@synth2/core');
    const reader = await ShardedTensorReader.open(dir);
    expect(await reader.ids()).toEqual(records.map((r) => r.id));

    const bad = join(tmp.dir, 'bad-shards');
    await expect(
      writeEmbeddingShards({ generator: gen, tokenizer, records: [{ id: 'a', text: 'a red circle' }, { id: 'b', text: 'a flying unicorn' }], dir: bad }),
    ).rejects.toThrow(/record|caption 1/);
    expect(existsSync(bad)).toBe(false);
    await mkdir(bad);
    expect(await readdir(bad)).toEqual([]);
  });
});
