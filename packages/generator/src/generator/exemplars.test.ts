import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError, Rng } from '@synth2/core';
import { initBackend } from '@synth2/nn';
import { makeTmpDir } from '@synth2/core/test';
import { CaptionTokenGenerator } from './caption-token-generator';
import { ExemplarCorpus } from './exemplars';

// A toy world: a 4×4 grid per image, an object = one of three 4×2 masks ("shapes") in one of three colours, in the
// left or the right half; token 0 is background, token 1 + c an object cell of colour c. Captions name colour and
// shape, never the side: only an exemplar can tell the generator where the object goes. The pair (colour 2,
// shape 2) is held out of training.
const COLORS = ['red', 'green', 'blue'];
const SHAPES = ['circle', 'square', 'star'];
const MASKS = SHAPES.map((_, s) => {
  const rng = new Rng(40 + s);
  return Array.from({ length: 8 }, () => (rng.uniform() < 0.5 ? 1 : 0));
});
const grid = (c: number, s: number, side: number) =>
  Array.from({ length: 16 }, (_, j) => {
    const [row, col] = [Math.floor(j / 4), j % 4];
    const inHalf = side === 0 ? col < 2 : col >= 2;
    return inHalf && MASKS[s][row * 2 + (col % 2)] ? 1 + c : 0;
  });
const tiny = {
  gridHeight: 4,
  gridWidth: 4,
  codebookSize: 4,
  group: 2,
  dim: 32,
  heads: 2,
  layers: 2,
  captionLayers: 1,
  maxCaptionLength: 4,
  labelSmoothing: 0,
  captionDropout: 0,
  exemplars: true,
  seed: 5,
};

let tmp: { dir: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  await initBackend({ log: () => {} });
  tmp = await makeTmpDir('synth2-exemplars-');
});
afterAll(async () => tmp?.cleanup());

describe('ExemplarCorpus', () => {
  it('should pick an image of the first key that has one, never the excluded image', () => {
    const corpus = ExemplarCorpus.build(new Int32Array(3 * 2), 2, [['a', 0], ['a', 1], ['b', 2], ['a', 1]]);
    expect(corpus.size).toBe(3);
    expect(corpus.keys).toBe(2);
    const rng = new Rng(1);
    for (let i = 0; i < 20; i++) expect(corpus.pick(['a'], rng, 0)).toBe(1);
    expect(corpus.pick(['x', 'b'], rng)).toBe(2);
    expect(corpus.pick(['b'], rng, 2)).toBe(-1);
    expect(corpus.pick(undefined, rng)).toBe(-1);
    const again = ExemplarCorpus.fromJSON(JSON.parse(JSON.stringify(corpus.toJSON())));
    expect(again.pick(['b'], rng)).toBe(2);
    expect(() => ExemplarCorpus.fromJSON({ grids: 3 })).toThrow(InvalidInputError);
  });
});

describe('retrieval-augmented generation (exemplars)', () => {
  it('should draw the object where its exemplar has it, in the caption\'s colour (held-out pair too), and reload identically', async () => {
    const examples = [];
    let image = 0;
    for (let c = 0; c < 3; c++)
      for (let s = 0; s < 3; s++) {
        if (c === 2 && s === 2) continue;
        for (let side = 0; side < 2; side++)
          for (let k = 0; k < 2; k++) {
            examples.push({ caption: `a ${COLORS[c]} ${SHAPES[s]}`, tokens: grid(c, s, side), exemplarKeys: [`${SHAPES[s]}@${side}`], image: image++ });
          }
      }
    const gen = CaptionTokenGenerator.create({ ...tiny, captions: examples.map((e) => e.caption) });
    const res = await gen.train(examples, { steps: 300, batchSize: 16, lr: 5e-3, warmupSteps: 20, log: () => {} });
    expect(gen.exemplarCorpus?.size).toBe(32);

    // the same caption twice, with exemplars from either side: the object follows the exemplar, the colour the caption
    const opts = { steps: 4, temperature: 0, guidanceScale: 1, seed: 3, exemplarKeys: [['star@0'], ['star@1'], ['star@1']] };
    const out = Array.from((await gen.generateTokens(['a blue star', 'a blue star', 'a red star'], opts)).dataSync());
    const right = (i: number, want: number[]) => out.slice(i * 16, i * 16 + 16).filter((v, j) => v === want[j]).length / 16;
    const scores = [right(0, grid(2, 2, 0)), right(1, grid(2, 2, 1)), right(2, grid(0, 2, 1))];
    console.log(`exemplars: held-out "a blue star" left ${scores[0] * 16}/16, right ${scores[1] * 16}/16; seen "a red star" right ${scores[2] * 16}/16; loss ${res.losses[0].toFixed(2)} → ${res.finalLoss.toFixed(3)}`);
    for (const sc of scores) expect(sc).toBeGreaterThanOrEqual(0.9);

    // the exemplar corpus is saved with the generator: same samples after a reload
    await gen.save(join(tmp.dir, 'gen'));
    const again = await CaptionTokenGenerator.load(join(tmp.dir, 'gen'));
    const sampled = { ...opts, temperature: 1, seed: 9 };
    const captions = ['a blue star', 'a blue star', 'a red star'];
    expect(Array.from((await again.generateTokens(captions, sampled)).dataSync())).toEqual(Array.from((await gen.generateTokens(captions, sampled)).dataSync()));
    await expect(gen.generateTokens(['a blue star'], { exemplarKeys: [] })).rejects.toThrow(/one entry per caption/);
    const plain = CaptionTokenGenerator.create({ ...tiny, exemplars: false, captions: ['a blue star'] });
    await expect(plain.generateTokens(['a blue star'], { exemplarKeys: [['star@0']] })).rejects.toThrow(/created without exemplars/);
    plain.dispose();
    gen.dispose();
    again.dispose();
  });
});
