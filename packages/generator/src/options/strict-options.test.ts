import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectUnknownOptionRejected, makeTmpDir } from '@synth2/core/test';
import { initBackend } from '@synth2/nn';
import {
  CaptionTokenGenerator,
  VQTokenizer,
  generateEmbeddings,
  generateEmbeddingsViaPixels,
  generateImages,
  groupTokens,
  trainTokenizer,
  ungroupTokens,
  writeEmbeddingShards,
} from '../index';

const captions = ['a red circle', 'a blue square'];
const tiny = { imageSize: 8, hidden: [4], resBlocks: 0, codebookSize: 8, codeDim: 4 };
const images = {
  data: new Uint8Array(2 * 8 * 8 * 3),
  shape: [2, 8, 8, 3] as [number, number, number, number],
};
let tokenizer: VQTokenizer;
let generator: CaptionTokenGenerator;
let dir: { dir: string; cleanup: () => Promise<void> };

beforeAll(async () => {
  await initBackend({ log: () => {} });
  dir = await makeTmpDir('synth2-generator-options-');
  tokenizer = VQTokenizer.create(tiny);
  generator = CaptionTokenGenerator.forTokenizer(tokenizer, {
    captions,
    dim: 8,
    heads: 2,
    layers: 1,
    group: 2,
  });
});
afterAll(async () => {
  tokenizer?.dispose();
  generator?.dispose();
  await dir?.cleanup();
});

const both = () => ({ generator, tokenizer, captions });
const geometry = { height: 4, width: 4, group: 2 };

/** Every public entry point of the package that takes an options object, called with one typo'd key. */
const cases: { where: string; key: string; nearest: string; call: () => unknown }[] = [
  {
    where: 'VQTokenizer.create',
    key: 'codebookSzie',
    nearest: 'codebookSize',
    call: () => VQTokenizer.create({ codebookSzie: 8 } as never),
  },
  {
    where: 'trainTokenizer',
    key: 'stepz',
    nearest: 'steps',
    call: () => trainTokenizer(tokenizer, images, { steps: 1, stepz: 9 } as never),
  },
  {
    where: 'trainTokenizer',
    key: 'restartEvry',
    nearest: 'restartEvery',
    call: () => tokenizer.train(images, { steps: 1, restartEvry: 9 } as never),
  },
  {
    where: 'VQTokenizer.evaluate',
    key: 'batchsize',
    nearest: 'batchSize',
    call: () => tokenizer.evaluate(images, { batchsize: 1 } as never),
  },
  {
    where: 'CaptionTokenGenerator.create',
    key: 'layer',
    nearest: 'layers',
    call: () => CaptionTokenGenerator.create({ captions, gridHeight: 4, gridWidth: 4, layer: 2 } as never),
  },
  {
    where: 'CaptionTokenGenerator.forTokenizer',
    key: 'caption',
    nearest: 'captions',
    call: () => CaptionTokenGenerator.forTokenizer(tokenizer, { caption: captions } as never),
  },
  {
    where: 'CaptionTokenGenerator.train',
    key: 'lR',
    nearest: 'lr',
    call: () =>
      generator.train([{ caption: captions[0], tokens: new Array(16).fill(0) }], {
        steps: 1,
        lR: 1,
      } as never),
  },
  {
    where: 'CaptionTokenGenerator.generateTokens',
    key: 'temprature',
    nearest: 'temperature',
    call: () => generator.generateTokens(captions, { temprature: 0 } as never),
  },
  {
    where: 'generateEmbeddings',
    key: 'guidance',
    nearest: 'guidanceScale',
    call: () => generateEmbeddings({ ...both(), guidance: 2 } as never),
  },
  {
    where: 'generateEmbeddings',
    key: 'rerank.candidate',
    nearest: 'rerank.candidates',
    call: () =>
      generateEmbeddings({
        ...both(),
        rerank: { scorer: { score: () => new Float32Array(2) }, candidate: 2 },
      } as never),
  },
  {
    where: 'generateEmbeddings',
    key: 'signal',
    nearest: 'abortSignal',
    call: () => generateEmbeddings({ ...both(), signal: new AbortController().signal } as never),
  },
  {
    where: 'generateImages',
    key: 'sede',
    nearest: 'seed',
    call: () => generateImages({ ...both(), sede: 1 } as never),
  },
  {
    where: 'generateEmbeddingsViaPixels',
    key: 'batchSise',
    nearest: 'batchSize',
    call: () => generateEmbeddingsViaPixels({ ...both(), batchSise: 1 } as never),
  },
  {
    where: 'writeEmbeddingShards',
    key: 'shardsize',
    nearest: 'shardSize',
    call: () =>
      writeEmbeddingShards({
        generator,
        tokenizer,
        records: [{ id: 'a', text: captions[0] }],
        dir: join(dir.dir, 'store'),
        shardsize: 2,
      } as never),
  },
  {
    where: 'groupTokens',
    key: 'geometry.heigth',
    nearest: 'geometry.height',
    call: () => groupTokens(new Int32Array(16), 1, { ...geometry, heigth: 4 } as never),
  },
  {
    where: 'ungroupTokens',
    key: 'geometry.groups',
    nearest: 'geometry.group',
    call: () => ungroupTokens(new Int32Array(16), 1, { ...geometry, groups: 2 } as never),
  },
];

describe('strict options', () => {
  it.each(cases)(
    '$where should reject the unknown key $key and suggest $nearest',
    async ({ where, key, nearest, call }) => {
      await expectUnknownOptionRejected(call, { where, key, suggestion: nearest });
    },
  );

  it('writeEmbeddingShards should reject a typo before it creates the store', async () => {
    const store = join(dir.dir, 'never');
    await expect(
      writeEmbeddingShards({
        generator,
        tokenizer,
        records: [{ id: 'a', text: captions[0] }],
        dir: store,
        stepz: 2,
      } as never),
    ).rejects.toThrow(/writeEmbeddingShards: unknown option "stepz"\. Did you mean "steps"\?/);
    expect(existsSync(store)).toBe(false);
  });

  it('should still accept the documented options', async () => {
    const emb = await generateEmbeddings({
      ...both(),
      steps: 2,
      temperature: 0,
      guidanceScale: 1,
      seed: 1,
      batchSize: 8,
    });
    expect(emb.shape).toEqual([2, 16, 4]);
    emb.dispose();
  });
});
