import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError, Rng, Vocabulary } from '@synth2/core';
import { initBackend, latestCheckpoint } from '@synth2/nn';
import { CaptioningVLM, type CaptioningVLMConfig } from '../model/captioning-vlm';
import { trainVLM } from './train-vlm';

const CAPTIONS = [
  'a red circle on the left',
  'a blue square above a green star',
  'two yellow triangles',
  'a small purple heart in the middle',
];
const EXTRA = ['a big orange ring at the top', 'a green circle below a red square'];

function randomEmbeddings(seed: number, count: number, positions = 4, dim = 4) {
  const rng = new Rng(seed);
  const data = new Float32Array(count * positions * dim);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return { data, shape: [count, positions, dim] as [number, number, number] };
}

function tinyConfig(): CaptioningVLMConfig {
  return {
    embeddingDim: 4,
    grid: [2, 2],
    dim: 32,
    heads: 2,
    mlpRatio: 2,
    resampler: { latents: 4, layers: 1 },
    decoder: { layers: 1 },
    maxCaptionLength: 10,
    seed: 1,
    vocabulary: Vocabulary.build([...CAPTIONS, ...EXTRA]),
  };
}

let dir: string;
beforeAll(async () => {
  await initBackend({ log: () => undefined });
  dir = await mkdtemp(join(tmpdir(), 'synth2-vlm-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('trainVLM', () => {
  it('should overfit a tiny set to near-zero loss and reproduce its captions exactly', async () => {
    const model = CaptioningVLM.create(tinyConfig());
    const real = { embeddings: randomEmbeddings(1, 4), captions: CAPTIONS.map((c) => [c]) };
    const result = await trainVLM({ model, real, steps: 200, batchSize: 4, lr: 3e-3, warmupSteps: 10, log: () => undefined });
    expect(result.finalLoss).toBeLessThan(0.05);
    expect(result.losses[0]).toBeGreaterThan(1);
    expect(await model.caption(real.embeddings)).toEqual(CAPTIONS);
    // beam search with one beam equals greedy; a wider beam finds the same (near-certain) captions
    expect(await model.caption(real.embeddings, { strategy: 'beam', beamSize: 1 })).toEqual(CAPTIONS);
    expect(await model.caption(real.embeddings, { strategy: 'beam', beamSize: 3 })).toEqual(CAPTIONS);

    // save/load gives identical captions, also for inputs it was not trained on
    const other = randomEmbeddings(9, 6);
    await model.save(join(dir, 'saved'));
    const loaded = await CaptioningVLM.load(join(dir, 'saved'));
    expect(await loaded.caption(real.embeddings)).toEqual(CAPTIONS);
    expect(await loaded.caption(other, { strategy: 'beam', beamSize: 3 })).toEqual(
      await model.caption(other, { strategy: 'beam', beamSize: 3 }),
    );
    model.dispose();
    loaded.dispose();
  });

  it('should train without a resampler, with an image encoder, and score its own captions above mismatched ones', async () => {
    // resampler.layers 0: the decoder reads the encoded image tokens directly
    const model = CaptioningVLM.create({ ...tinyConfig(), encoder: { layers: 1 }, resampler: { layers: 0 } });
    const names = [...model.network.parameters().keys()];
    expect(names).toContain('vlm.encoder.blocks.0.attn.q.weight');
    expect(names.some((n) => n.startsWith('vlm.resampler.'))).toBe(false);
    const real = { embeddings: randomEmbeddings(1, 4), captions: CAPTIONS.map((c) => [c]) };
    const result = await trainVLM({ model, real, steps: 200, batchSize: 4, lr: 3e-3, warmupSteps: 10, log: () => undefined });
    expect(result.finalLoss).toBeLessThan(0.05);
    expect(await model.caption(real.embeddings)).toEqual(CAPTIONS);

    // score: near 0 nats for each image's own caption, far below for another image's caption
    const own = await model.score(real.embeddings, CAPTIONS);
    const shifted = await model.score(real.embeddings, CAPTIONS.map((_, i) => CAPTIONS[(i + 1) % CAPTIONS.length]));
    for (let i = 0; i < CAPTIONS.length; i++) {
      expect(own[i]).toBeLessThan(0);
      expect(own[i]).toBeGreaterThan(-0.5);
      expect(shifted[i]).toBeLessThan(own[i] - 5);
    }
    // per word: one term per word and one for the end token, summing to the score; the word the shifted caption
    // gets wrong costs most of its total
    const perWord = await model.wordLogProbs(real.embeddings, CAPTIONS);
    const perWordShifted = await model.wordLogProbs(real.embeddings, CAPTIONS.map((_, i) => CAPTIONS[(i + 1) % CAPTIONS.length]));
    perWord.forEach((lp, i) => {
      expect(lp.length).toBe(CAPTIONS[i].split(' ').length + 1);
      expect(lp.reduce((a, b) => a + b, 0)).toBeCloseTo(own[i], 4);
      expect(Math.min(...perWordShifted[i])).toBeLessThan(-2);
    });
    // batching does not change scores; a reloaded model scores identically
    expect(Array.from(await model.score(real.embeddings, CAPTIONS, { batchSize: 3 }))).toEqual(Array.from(own));
    await model.save(join(dir, 'no-resampler'));
    const loaded = await CaptioningVLM.load(join(dir, 'no-resampler'));
    expect(Array.from(await loaded.score(real.embeddings, CAPTIONS))).toEqual(Array.from(own));
    await expect(model.score(real.embeddings, CAPTIONS.slice(1))).rejects.toThrow(/one caption per image: got 3 captions for 4 images/);
    await expect(model.score(real.embeddings, ['', ...CAPTIONS.slice(1)])).rejects.toThrow(InvalidInputError);
    model.dispose();
    loaded.dispose();
  });

  it('should give the same losses and captions when resumed as an uninterrupted run', async () => {
    const real = { embeddings: randomEmbeddings(2, 6), captions: CAPTIONS.slice(0, 3).flatMap((c, i) => [[c, EXTRA[i % 2]], [EXTRA[(i + 1) % 2], c]]) };
    const synthetic = { embeddings: randomEmbeddings(3, 5), captions: [...CAPTIONS, EXTRA[0]].slice(0, 5) };
    const common = { real, synthetic, mix: { real: 0.5, synthetic: 0.5 }, batchSize: 4, lr: 2e-3, seed: 5, log: () => undefined };

    const straight = CaptioningVLM.create(tinyConfig());
    const a = await trainVLM({ ...common, model: straight, steps: 12 });

    const resumedDir = join(dir, 'resume');
    const first = CaptioningVLM.create(tinyConfig());
    const controller = new AbortController();
    const interrupted = await trainVLM({
      ...common,
      model: first,
      steps: 12,
      checkpointDir: resumedDir,
      abortSignal: controller.signal,
      onProgress: (e) => {
        if (e.step === 6) controller.abort();
      },
    });
    expect(interrupted.steps).toBe(6);
    expect(interrupted.aborted).toBe(true);
    first.dispose();
    const second = CaptioningVLM.create(tinyConfig());
    const b = await trainVLM({ ...common, model: second, steps: 12, checkpointDir: resumedDir });

    expect(b.resumedFrom).toBe(6);
    expect(b.losses).toEqual(a.losses);
    const probe = randomEmbeddings(4, 3);
    expect(await second.caption(probe)).toEqual(await straight.caption(probe));
    // trainer checkpoints load as models too
    const latest = await latestCheckpoint(join(resumedDir, 'trainer'));
    const fromTrainer = await CaptioningVLM.load(latest!);
    expect(await fromTrainer.caption(probe)).toEqual(await straight.caption(probe));
    fromTrainer.dispose();
    straight.dispose();
    second.dispose();
  });

  it('should keep the best checkpoint by validation CIDEr and restore it', async () => {
    const model = CaptioningVLM.create(tinyConfig());
    const real = { embeddings: randomEmbeddings(1, 4), captions: CAPTIONS.map((c) => [c]) };
    const checkpointDir = join(dir, 'best-run');
    const result = await trainVLM({
      model,
      real,
      steps: 120,
      batchSize: 4,
      lr: 3e-3,
      validation: { embeddings: real.embeddings, references: CAPTIONS.map((c) => [c]) },
      evalEvery: 40,
      checkpointDir,
      log: () => undefined,
    });
    expect(result.evaluations.map((e) => e.step)).toEqual([40, 80, 120]);
    const bestCider = Math.max(...result.evaluations.map((e) => e.metrics.CIDEr));
    expect(result.best?.metrics.CIDEr).toBe(bestCider);
    expect(existsSync(join(checkpointDir, 'best', 'model.safetensors'))).toBe(true);
    const best = await CaptioningVLM.load(join(checkpointDir, 'best'));
    expect(await best.caption(real.embeddings)).toEqual(await model.caption(real.embeddings));
    model.dispose();
    best.dispose();
  });
});

describe('trainVLM bad input', () => {
  const model = () => CaptioningVLM.create(tinyConfig());
  const good = () => ({ embeddings: randomEmbeddings(1, 4), captions: CAPTIONS.map((c) => [c]) });

  async function expectNothingWritten(promise: Promise<unknown>, pattern: RegExp, checkpointDir: string) {
    await expect(promise).rejects.toThrow(InvalidInputError);
    await expect(promise).rejects.toThrow(pattern);
    expect(existsSync(checkpointDir) ? await readdir(checkpointDir) : []).toEqual([]);
  }

  it('should reject embeddings of the wrong width', async () => {
    const cp = join(dir, 'bad-width');
    const real = { embeddings: randomEmbeddings(1, 4, 4, 8), captions: CAPTIONS.map((c) => [c]) };
    await expectNothingWritten(
      trainVLM({ model: model(), real, steps: 5, batchSize: 2, checkpointDir: cp }),
      /real.embeddings have width 8, but the model reads embeddings of width 4/,
      cp,
    );
  });

  it('should reject captions with unknown words and name them', async () => {
    const cp = join(dir, 'bad-words');
    const real = { embeddings: randomEmbeddings(1, 2), captions: [['a red circle'], ['a zebra on a skateboard']] };
    await expectNothingWritten(
      trainVLM({ model: model(), real, steps: 5, batchSize: 2, checkpointDir: cp }),
      /outside the model's vocabulary: "zebra" \(real.captions\[1\]\[0\]\), "skateboard"/,
      cp,
    );
  });

  it('should reject empty datasets and missing captions', async () => {
    const cp = join(dir, 'bad-empty');
    await expectNothingWritten(trainVLM({ model: model(), steps: 5, batchSize: 2, checkpointDir: cp }), /needs training pairs/, cp);
    await expectNothingWritten(
      trainVLM({ model: model(), real: { embeddings: { data: new Float32Array(0), shape: [0, 4, 4] }, captions: [] }, steps: 5, batchSize: 2, checkpointDir: cp }),
      /real.embeddings is empty/,
      cp,
    );
    await expectNothingWritten(
      trainVLM({ model: model(), real: { embeddings: randomEmbeddings(1, 2), captions: [['a red circle'], []] }, steps: 5, batchSize: 2, checkpointDir: cp }),
      /real.captions\[1\] has no captions/,
      cp,
    );
    await expectNothingWritten(
      trainVLM({ model: model(), real: { embeddings: randomEmbeddings(1, 3), captions: [['a red circle']] }, steps: 5, batchSize: 2, checkpointDir: cp }),
      /1 entries for 3 embeddings/,
      cp,
    );
  });

  it('should reject a mixing ratio that does not sum to 1 or names a missing source', async () => {
    const cp = join(dir, 'bad-mix');
    const synthetic = { embeddings: randomEmbeddings(2, 2), captions: ['a red circle', 'two yellow triangles'] };
    await expectNothingWritten(
      trainVLM({ model: model(), real: good(), synthetic, mix: { real: 0.7, synthetic: 0.7 }, steps: 5, batchSize: 2, checkpointDir: cp }),
      /mix.real \+ mix.synthetic must be 1/,
      cp,
    );
    await expectNothingWritten(
      trainVLM({ model: model(), real: good(), mix: { real: 0.5, synthetic: 0.5 }, steps: 5, batchSize: 2, checkpointDir: cp }),
      /no synthetic pairs/,
      cp,
    );
    await expectNothingWritten(
      trainVLM({ model: model(), real: good(), synthetic, syntheticSteps: -3, steps: 5, batchSize: 2, checkpointDir: cp }),
      /syntheticSteps must be a whole number/,
      cp,
    );
  });

  it('should reject bad step counts and batch sizes', async () => {
    await expect(trainVLM({ model: model(), real: good(), steps: 0, batchSize: 2 })).rejects.toThrow(/steps must be a positive integer/);
    await expect(trainVLM({ model: model(), real: good(), steps: 3, batchSize: 1.5 })).rejects.toThrow(/batchSize must be a positive integer/);
  });
});
