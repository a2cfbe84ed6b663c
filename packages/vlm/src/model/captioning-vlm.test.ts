import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointMismatchError, ConfigurationError, InvalidInputError, Rng, Vocabulary } from '@synth2/core';
import { initBackend, tf } from '@synth2/nn';
import { CaptioningVLM, type CaptioningVLMConfig } from './captioning-vlm';

const vocabulary = Vocabulary.build(['a red circle on the left', 'two blue squares above a green star']);
const config: CaptioningVLMConfig = {
  embeddingDim: 4,
  grid: [4, 4],
  group: 2,
  dim: 16,
  heads: 2,
  mlpRatio: 2,
  resampler: { latents: 3, layers: 2 },
  decoder: { layers: 2 },
  maxCaptionLength: 8,
  vocabulary,
};

function embeddings(seed: number, count: number) {
  const rng = new Rng(seed);
  return { data: Float32Array.from({ length: count * 16 * 4 }, () => rng.normal()), shape: [count, 16, 4] as [number, number, number] };
}

let dir: string;
beforeAll(async () => {
  await initBackend({ log: () => undefined });
  dir = await mkdtemp(join(tmpdir(), 'synth2-vlm-model-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('CaptioningVLM', () => {
  it('should build the resampler and gated cross-attention decoder from core blocks', () => {
    const model = CaptioningVLM.create(config);
    const names = [...model.network.parameters().keys()];
    expect(names).toContain('vlm.resampler.latents');
    expect(names).toContain('vlm.resampler.blocks.1.crossAttn.q.weight');
    expect(names).toContain('vlm.decoder.blocks.1.gate');
    expect(model.network.parameters().get('vlm.input.weight')!.shape).toEqual([16, 16]); // 2×2 groups of width 4
    // Flamingo gates start closed unless asked otherwise
    expect(model.network.parameters().get('vlm.decoder.blocks.0.gate')!.dataSync()[0]).toBe(0);
    const open = CaptioningVLM.create({ ...config, decoder: { layers: 2, gateInit: 1 } });
    expect(open.network.parameters().get('vlm.decoder.blocks.1.gate')!.dataSync()[0]).toBe(1);
    model.dispose();
    open.dispose();
  });

  it('should decode with greedy and beam search in batches, beam 1 equal to greedy, without leaking tensors', async () => {
    const model = CaptioningVLM.create(config);
    const x = embeddings(1, 7);
    await model.caption(x); // warm-up
    const before = tf.memory().numTensors;
    const greedy = await model.caption(x, { maxLength: 6 });
    expect(greedy).toHaveLength(7);
    expect(await model.caption(x, { strategy: 'beam', beamSize: 1, maxLength: 6 })).toEqual(greedy);
    // batching does not change the result
    expect(await model.caption(x, { maxLength: 6, batchSize: 3 })).toEqual(greedy);
    const beam = await model.caption(x, { strategy: 'beam', beamSize: 3, maxLength: 6 });
    expect(beam).toHaveLength(7);
    for (const c of [...greedy, ...beam]) expect(c.split(' ').length).toBeLessThanOrEqual(6);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('should caption images through a tokenizer with encode and embed', async () => {
    const model = CaptioningVLM.create(config);
    const x = embeddings(2, 3);
    const tokenizer = {
      encode: async (images: string[]) => images.map((_, i) => i),
      embed: (ids: number[]) => ({ data: x.data.slice(0, ids.length * 64), shape: [ids.length, 16, 4] as [number, number, number] }),
    };
    expect(await model.captionImages(['a.png', 'b.png', 'c.png'], tokenizer)).toEqual(await model.caption(x));
    await expect(model.captionImages([], {} as never)).rejects.toThrow(/tokenizer with encode\(images\) and embed\(ids\)/);
    model.dispose();
  });

  it('should reject embeddings that do not fit the model', async () => {
    const model = CaptioningVLM.create(config);
    const wide = { data: new Float32Array(2 * 16 * 5), shape: [2, 16, 5] as [number, number, number] };
    await expect(model.caption(wide)).rejects.toThrow(InvalidInputError);
    await expect(model.caption(wide)).rejects.toThrow(/width 5, but the model reads embeddings of width 4/);
    await expect(model.caption(embeddings(1, 1), { maxLength: 9 })).rejects.toThrow(/maxLength must be an integer from 1/);
    model.dispose();
  });

  it('should reject bad configs with the setting named', () => {
    expect(() => CaptioningVLM.create({ ...config, heads: 3 })).toThrow(ConfigurationError);
    expect(() => CaptioningVLM.create({ ...config, vocabulary: undefined as never })).toThrow(/vocabulary is missing/);
  });

  it('should refuse to load a checkpoint of another model or size', async () => {
    const model = CaptioningVLM.create(config);
    await model.save(join(dir, 'small'));
    // a directory whose config is not a VLM's
    await mkdir(join(dir, 'other'), { recursive: true });
    await writeFile(join(dir, 'other', 'config.json'), JSON.stringify({ format: 'something-else' }));
    await expect(CaptioningVLM.load(join(dir, 'other'))).rejects.toThrow(/is not a Synth² VLM checkpoint/);
    // weights of a bigger model under a smaller config
    const big = CaptioningVLM.create({ ...config, dim: 32 });
    await big.save(join(dir, 'big'));
    const { loadCheckpoint } = await import('@synth2/nn');
    await expect(loadCheckpoint(join(dir, 'big'), model.network)).rejects.toSatisfy((e: unknown) => CheckpointMismatchError.isInstance(e));
    model.dispose();
    big.dispose();
  });
});
