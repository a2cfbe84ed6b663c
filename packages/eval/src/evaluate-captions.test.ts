import { AbortedError, ConfigurationError, InvalidInputError, getRegistries, type CaptionMetricV1 } from '@synth2/core';
import { afterEach, describe, expect, it } from 'vitest';
import { evaluateCaptions } from './evaluate-captions';

const references = {
  img1: ['A man rides a horse on the beach.', 'A person riding a horse near the ocean.'],
  img2: ['Two dogs play in the snow.', 'A pair of dogs playing in snow.'],
  img3: ['A plate of food with broccoli.', 'Broccoli and rice on a white plate.'],
};

describe('evaluateCaptions', () => {
  it('should score a perfect candidate with BLEU 1 and the best ROUGE-L', async () => {
    const r = await evaluateCaptions({
      references: { a: ['a man rides a horse on the beach'], b: ['two dogs play in the snow'] },
      predictions: { a: 'A man rides a horse on the beach.', b: 'Two dogs play in the snow!' },
    });
    expect(r.metrics.Bleu_4).toBeCloseTo(1, 6);
    expect(r.metrics.ROUGE_L).toBeCloseTo(1, 12);
    expect(r.imageIds).toEqual(['a', 'b']);
    expect(r.perImage.Bleu_1).toHaveLength(2);
    // with two images log(2) · … : identical sentences give CIDEr 10 per image
    expect(r.metrics.CIDEr).toBeCloseTo(10, 10);
  });

  it('should list every per-image array in JSON and spreads, in the official order, with the values of a direct read', async () => {
    const r = await evaluateCaptions({ references, predictions: { img1: 'a man riding a horse', img2: 'dogs in the snow', img3: 'a plate of rice' } });
    const json = JSON.parse(JSON.stringify(r.perImage)) as Record<string, number[]>;
    expect(Object.keys(json)).toEqual(['Bleu_1', 'Bleu_2', 'Bleu_3', 'Bleu_4', 'ROUGE_L', 'CIDEr']);
    expect(Object.keys({ ...r.perImage })).toEqual(Object.keys(json));
    for (const [name, values] of Object.entries(json)) {
      expect(values).toHaveLength(3);
      expect(values).toEqual(r.perImage[name as 'Bleu_1']);
    }
    // per-image BLEU-1 of img1: all 5 unigrams match; both references have 8 tokens: brevity penalty exp(1 - 8/5)
    expect(json.Bleu_1[0]).toBeCloseTo(Math.exp(1 - 8 / 5), 8);
    r.perImage.Bleu_1 = [0, 0, 0];
    expect(r.perImage.Bleu_1).toEqual([0, 0, 0]);
  });

  it('should give the same result for COCO-format inputs and plain maps, in the references order', async () => {
    const coco = {
      images: [{ id: 3 }, { id: 1 }, { id: 2 }],
      annotations: Object.entries(references).flatMap(([k, caps]) => caps.map((caption) => ({ image_id: Number(k.slice(3)), caption }))),
    };
    const results = [
      { image_id: 1, caption: 'a man riding a horse' },
      { image_id: 2, caption: 'dogs in the snow' },
      { image_id: 3, caption: 'a plate with broccoli' },
    ];
    const fromCoco = await evaluateCaptions({ references: coco, predictions: results });
    expect(fromCoco.imageIds).toEqual([3, 1, 2]);
    const fromMaps = await evaluateCaptions({
      references: { img3: references.img3, img1: references.img1, img2: references.img2 },
      predictions: { img1: 'a man riding a horse', img2: 'dogs in the snow', img3: 'a plate with broccoli' },
    });
    expect(fromMaps.imageIds).toEqual(['img3', 'img1', 'img2']);
    expect(fromMaps.metrics).toEqual(fromCoco.metrics);
    expect(fromMaps.bleuStats).toEqual(fromCoco.bleuStats);
  });

  it('should split on any whitespace for BLEU/CIDEr but only on spaces for ROUGE-L, like the reference', async () => {
    // the PTB tokenizer keeps "1 1/2" as one token holding U+00A0
    const r = await evaluateCaptions({ references: { a: ['Add 1 1/2 cups of flour.'] }, predictions: { a: '1 1/2 cups' } });
    expect(r.tokenized.predictions).toEqual(['1\u00a01/2 cups']);
    expect(r.bleuStats!.testlen).toBe(3);
    expect(r.bleuStats!.reflen).toBe(6);
    const p = 1;
    const rec = 2 / 5;
    expect(r.metrics.ROUGE_L).toBe(((1 + 1.2 * 1.2) * p * rec) / (rec + 1.2 * 1.2 * p));
  });

  it('should compute only the requested metrics', async () => {
    const r = await evaluateCaptions({ references, predictions: { img1: 'a horse', img2: 'dogs', img3: 'food' }, metrics: ['ROUGE_L'] });
    expect(Object.keys(r.metrics)).toEqual(['ROUGE_L']);
    expect(r.bleuStats).toBeUndefined();
  });

  it('should evaluate only images with a prediction', async () => {
    const r = await evaluateCaptions({ references, predictions: [{ image_id: 'img2', caption: 'two dogs' }] });
    expect(r.imageIds).toEqual(['img2']);
  });

  describe('bad input', () => {
    const cases: [string, Parameters<typeof evaluateCaptions>[0]['predictions'], RegExp][] = [
      ['a result for an unknown image', [{ image_id: 'img1', caption: 'a horse' }, { image_id: 'img9', caption: 'a cat' }], /1 prediction is for images that have no references \(image "img9"\)/],
      ['duplicate results for an image', [{ image_id: 'img1', caption: 'a horse' }, { image_id: 'img1', caption: 'a pony' }], /1 prediction is duplicates .*"img1"/],
      ['an empty caption', [{ image_id: 'img1', caption: '  ' }], /1 prediction has an empty caption \(image "img1"\)/],
      ['a caption that is not a string', [{ image_id: 'img1', caption: 42 }], /1 prediction has a caption that is not a string/],
    ];
    it.each(cases)('should reject %s with a clear error', async (_what, predictions, message) => {
      const error = await evaluateCaptions({ references, predictions }).catch((e: unknown) => e);
      expect(InvalidInputError.isInstance(error)).toBe(true);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toMatch(/onInvalid: 'drop'/);
    });

    it('should drop and report the bad entries with onInvalid: drop', async () => {
      const r = await evaluateCaptions({
        references: { ...references, img4: ['', 7 as unknown as string] },
        predictions: [
          { image_id: 'img1', caption: 'a horse' },
          { image_id: 'img1', caption: 'again' },
          { image_id: 'img9', caption: 'a cat' },
          { image_id: 'img2', caption: '' },
          { image_id: 'img4', caption: 'a thing' },
        ],
        onInvalid: 'drop',
      });
      expect(r.imageIds).toEqual(['img1']);
      expect(r.dropped).toEqual(
        expect.arrayContaining([
          { imageId: 'img1', kind: 'prediction', reason: 'duplicate' },
          { imageId: 'img9', kind: 'prediction', reason: 'unknown-image' },
          { imageId: 'img2', kind: 'prediction', reason: 'empty-caption' },
          { imageId: 'img4', kind: 'prediction', reason: 'no-references' },
          { imageId: 'img4', kind: 'reference', reason: 'empty-caption' },
          { imageId: 'img4', kind: 'reference', reason: 'not-a-string' },
        ]),
      );
    });

    it('should reject an image whose references are all invalid', async () => {
      const e = (await evaluateCaptions({ references: { a: [''] }, predictions: { a: 'x' } }).catch((x: unknown) => x)) as Error;
      expect(e.message).toMatch(/1 prediction is for images whose references are all empty or invalid \(image "a"\)/);
      expect(e.message).toMatch(/1 reference has an empty caption \(image "a"\)/);
    });

    it('should reject inputs with nothing in common', async () => {
      await expect(evaluateCaptions({ references, predictions: {}, onInvalid: 'drop' })).rejects.toThrow(/nothing to evaluate/);
    });

    it('should reject malformed structures with the field that is wrong', async () => {
      await expect(evaluateCaptions({ references: { a: 'not a list' as unknown as string[] }, predictions: { a: 'x' } })).rejects.toThrow(
        /references\["a"\] must be an array/,
      );
      await expect(evaluateCaptions({ references: { annotations: [{ caption: 'x' }] } as never, predictions: [] })).rejects.toThrow(
        /annotations\[0\] has no valid "image_id"/,
      );
      await expect(evaluateCaptions({ references, predictions: [{ caption: 'x' }] as never })).rejects.toThrow(/results\[0\] must be an object/);
    });

    it('should reject unknown metrics and options', async () => {
      const e = await evaluateCaptions({ references, predictions: { img1: 'x' }, metrics: ['BLEU', 'WER' as never] }).catch((x: unknown) => x);
      expect(ConfigurationError.isInstance(e)).toBe(true);
      expect((e as Error).message).toMatch(/unknown metric "WER"\. Built-in metrics: BLEU, ROUGE_L, CIDEr, METEOR, SPICE;/);
      await expect(evaluateCaptions({ references, predictions: { img1: 'x' }, onInvalid: 'skip' as never })).rejects.toThrow(/onInvalid must be/);
    });
  });

  it('should stop with an AbortedError when abortSignal (or the deprecated signal) has fired', async () => {
    const ac = new AbortController();
    ac.abort();
    const input = { references: { a: ['a red circle'] }, predictions: { a: 'a red circle' } };
    await expect(evaluateCaptions({ ...input, abortSignal: ac.signal })).rejects.toSatisfy(AbortedError.isInstance);
    await expect(evaluateCaptions({ ...input, signal: ac.signal })).rejects.toSatisfy(AbortedError.isInstance);
    await expect(evaluateCaptions(input)).resolves.toBeDefined();
  });
});

describe('evaluateCaptions with plugin metrics', () => {
  const refs = { a: ['a red circle', 'a circle'], b: ['two blue squares'], c: ['a green triangle'] };
  const preds = { a: 'a red circle', b: 'one blue square', c: 'a green triangle' };
  /** A registered metric: words per prediction, with per-image scores; it records what it was given. */
  const seen: { references?: Record<string, string[]>; predictions?: Record<string, string> }[] = [];
  const lengthMetric = (perImage: boolean): CaptionMetricV1 => ({
    specificationVersion: 'v1',
    id: 'test-org/length',
    async score({ references, predictions }) {
      seen.push({ references, predictions });
      const per = Object.fromEntries(Object.entries(predictions).map(([id, p]) => [id, p.split(' ').length]));
      const values = Object.values(per);
      return { score: values.reduce((x, y) => x + y, 0) / values.length, ...(perImage ? { perImage: per } : {}) };
    },
  });
  const register = (id: string, create: () => unknown) =>
    getRegistries().metrics.register({ id, plugin: 'test-plugin', create: create as () => CaptionMetricV1 }, { override: true });
  afterEach(() => {
    for (const id of ['test-org/length', 'test-org/bad']) getRegistries().metrics.unregister(id);
    seen.length = 0;
  });

  it('should report a registered metric under its id, after the built-in scores, with per-image scores in imageIds order', async () => {
    register('test-org/length', () => lengthMetric(true));
    const r = await evaluateCaptions({ references: refs, predictions: preds, metrics: ['BLEU', 'test-org/length'] });
    expect(Object.keys(r.metrics)).toEqual(['Bleu_1', 'Bleu_2', 'Bleu_3', 'Bleu_4', 'test-org/length']);
    expect(r.metrics['test-org/length']).toBe(3);
    expect(r.imageIds).toEqual(['a', 'b', 'c']);
    expect(r.perImage['test-org/length']).toEqual([3, 3, 3]);
    // raw captions of the evaluated images, keyed by image id
    expect(seen[0]).toEqual({ references: refs, predictions: preds });
  });

  it('should score only the evaluated images and leave perImage out when the metric gives none', async () => {
    register('test-org/length', () => lengthMetric(false));
    const r = await evaluateCaptions({
      references: refs,
      predictions: { a: 'a red circle', b: '' },
      onInvalid: 'drop',
      metrics: ['test-org/length'],
    });
    expect(r.metrics).toEqual({ 'test-org/length': 3 });
    expect('test-org/length' in r.perImage).toBe(false);
    expect(seen[0].predictions).toEqual({ a: 'a red circle' });
  });

  it('should fail before any work on an unknown id, naming the built-in and the registered metrics', async () => {
    register('test-org/length', () => lengthMetric(true));
    const e = await evaluateCaptions({ references: refs, predictions: preds, metrics: ['BLEU', 'my-org/metric'] }).catch((x: unknown) => x);
    expect(ConfigurationError.isInstance(e)).toBe(true);
    const message = (e as Error).message;
    expect(message).toContain('unknown metric "my-org/metric"');
    expect(message).toContain('Built-in metrics: BLEU, ROUGE_L, CIDEr, METEOR, SPICE');
    expect(message).toContain('registered by plugins: test-org/length (test-plugin)');
    expect(message).toMatch(/list the package under "plugins"/);
    expect(seen).toHaveLength(0);
  });

  it('should name the metric and its plugin when it returns a bad result', async () => {
    register('test-org/bad', () => ({ specificationVersion: 'v1', id: 'test-org/bad', score: async () => ({ score: 1, perImage: { a: 1 } }) }));
    await expect(evaluateCaptions({ references: refs, predictions: preds, metrics: ['test-org/bad'] })).rejects.toThrow(
      /metric "test-org\/bad" \(plugin test-plugin\) returned no finite per-image score for image "b"/,
    );
    register('test-org/bad', () => ({ score: async () => ({ score: 1 }) }));
    await expect(evaluateCaptions({ references: refs, predictions: preds, metrics: ['test-org/bad'] })).rejects.toThrow(
      /is not a CaptionMetricV1/,
    );
  });
});
