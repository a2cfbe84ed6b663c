import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Vocabulary } from '@synth2/core';
import { expectUnknownOptionRejected } from '@synth2/core/test';
import { initBackend } from '@synth2/nn';
import {
  CaptioningVLM,
  loadEmbeddingStore,
  loadRealPairs,
  loadSyntheticPairs,
  parseVlmArchitecture,
  searchCaptions,
  trainVLM,
} from '../index';

const captions = ['a red circle', 'a blue square'];
const embeddings = { data: new Float32Array(2 * 4 * 4), shape: [2, 4, 4] as [number, number, number] };
const architecture = {
  embeddingDim: 4,
  grid: [2, 2] as [number, number],
  dim: 8,
  heads: 2,
  decoder: { layers: 1 },
  maxCaptionLength: 6,
};
let model: CaptioningVLM;
let dir: string;

beforeAll(async () => {
  await initBackend({ log: () => undefined });
  dir = await mkdtemp(join(tmpdir(), 'synth2-vlm-options-'));
  model = CaptioningVLM.create({ ...architecture, vocabulary: Vocabulary.build(captions) });
});
afterAll(async () => {
  model?.dispose();
  await rm(dir, { recursive: true, force: true });
});

const real = { embeddings, captions: captions.map((c) => [c]) };
const train = (extra: Record<string, unknown>) =>
  trainVLM({ model, real, steps: 1, batchSize: 2, log: () => undefined, ...extra } as never);
const search = {
  count: 1,
  vocabSize: 4,
  bos: 1,
  eos: 2,
  maxLength: 2,
  strategy: 'greedy' as const,
  beamSize: 1,
  lengthPenalty: 1,
  score: () => new Float32Array(4),
};

/** Every public entry point of the package that takes an options object, called with one typo'd key. */
const cases: { where: string; key: string; nearest: string; call: () => unknown }[] = [
  {
    where: 'parseVlmArchitecture',
    key: 'head',
    nearest: 'heads',
    call: () => parseVlmArchitecture({ ...architecture, head: 2 }),
  },
  {
    where: 'CaptioningVLM.create',
    key: 'vocabulery',
    nearest: 'vocabulary',
    call: () => CaptioningVLM.create({ ...architecture, vocabulery: Vocabulary.build(captions) } as never),
  },
  {
    where: 'CaptioningVLM.create',
    key: 'decoder.gateinit',
    nearest: 'decoder.gateInit',
    call: () =>
      CaptioningVLM.create({
        ...architecture,
        decoder: { gateinit: 1 },
        vocabulary: Vocabulary.build(captions),
      } as never),
  },
  {
    where: 'CaptioningVLM.caption',
    key: 'beamsize',
    nearest: 'beamSize',
    call: () => model.caption(embeddings, { beamsize: 2 } as never),
  },
  {
    where: 'CaptioningVLM.captionImages',
    key: 'stratgy',
    nearest: 'strategy',
    call: () =>
      model.captionImages([], { encode: () => [], embed: () => embeddings }, { stratgy: 'beam' } as never),
  },
  {
    where: 'CaptioningVLM.score',
    key: 'batch',
    nearest: 'batchSize',
    call: () => model.score(embeddings, captions, { batch: 1 } as never),
  },
  {
    where: 'CaptioningVLM.wordLogProbs',
    key: 'batchsize',
    nearest: 'batchSize',
    call: () => model.wordLogProbs(embeddings, captions, { batchsize: 1 } as never),
  },
  { where: 'trainVLM', key: 'stepz', nearest: 'steps', call: () => train({ stepz: 9 }) },
  {
    where: 'trainVLM',
    key: 'signal',
    nearest: 'abortSignal',
    call: () => train({ signal: new AbortController().signal }),
  },
  {
    where: 'trainVLM',
    key: 'real.caption',
    nearest: 'real.captions',
    call: () => train({ real: { ...real, caption: [] } }),
  },
  { where: 'trainVLM', key: 'mix.reel', nearest: 'mix.real', call: () => train({ mix: { reel: 1 } }) },
  {
    where: 'trainVLM',
    key: 'validation.decode.maxLenght',
    nearest: 'validation.decode.maxLength',
    call: () => train({ validation: { embeddings, references: real.captions, decode: { maxLenght: 3 } } }),
  },
  {
    where: 'trainVLM',
    key: 'backend.thread',
    nearest: 'backend.threads',
    call: () => train({ backend: { thread: 1 } }),
  },
  {
    where: 'loadEmbeddingStore',
    key: 'tensr',
    nearest: 'tensor',
    call: () => loadEmbeddingStore(dir, { tensr: 'x' } as never),
  },
  {
    where: 'loadSyntheticPairs',
    key: 'captionFile',
    nearest: 'captionsFile',
    call: () => loadSyntheticPairs({ embeddingsDir: dir, captionFile: 'c.jsonl' } as never),
  },
  {
    where: 'loadRealPairs',
    key: 'pair',
    nearest: 'pairs',
    call: () => loadRealPairs({ embeddingsDir: dir, pair: [] } as never),
  },
  {
    where: 'searchCaptions',
    key: 'banend',
    nearest: 'banned',
    call: () => searchCaptions({ ...search, banend: [0] } as never),
  },
];

describe('strict options', () => {
  it.each(cases)(
    '$where should reject the unknown key $key and suggest $nearest',
    async ({ where, key, nearest, call }) => {
      await expectUnknownOptionRejected(call, { where, key, suggestion: nearest });
    },
  );

  it('trainVLM should reject a typo before it trains or writes anything', async () => {
    const checkpoints = join(dir, 'never');
    const progress: number[] = [];
    await expect(
      train({
        stepz: 9,
        checkpointDir: checkpoints,
        onProgress: (e: { step: number }) => progress.push(e.step),
      }),
    ).rejects.toThrow(/trainVLM: unknown option "stepz"\. Did you mean "steps"\?/);
    expect(progress).toEqual([]);
    expect(existsSync(checkpoints)).toBe(false);
  });

  it('should still accept the documented options', async () => {
    const result = await train({
      mix: { real: 1, synthetic: 0 },
      validation: { embeddings, references: real.captions, decode: { strategy: 'greedy' } },
    });
    expect(result.steps).toBe(1);
    expect(await model.caption(embeddings, { strategy: 'beam', beamSize: 2, batchSize: 1 })).toHaveLength(2);
  });
});
