import { describe, expect, it } from 'vitest';
import { getRegistries, loadPlugins } from '@synth2/core';
import { createTemplateCaptionSource, createWordOverlapMetric, wordOverlap } from './index';

describe('createTemplateCaptionSource', () => {
  it('should fill templates with the requested concepts, seeded', async () => {
    const source = createTemplateCaptionSource({ templates: ['a {0} next to a {1}'] });
    const result = await source.doGenerate({
      concepts: [
        { id: 'dog', name: 'dog', kind: 'object', synonyms: [] },
        { id: 'cat', name: 'cat', kind: 'object', synonyms: [] },
      ],
      n: 2,
      seed: 3,
    });
    expect(result.captions).toEqual(['a dog next to a cat', 'a dog next to a cat']);
  });

  it('should reject empty templates', () => {
    expect(() => createTemplateCaptionSource({ templates: [] })).toThrow(/non-empty array/);
  });
});

describe('createWordOverlapMetric', () => {
  it('should score the share of predicted words found in the references, per image and on average', async () => {
    expect(wordOverlap('A red circle!', ['a red square'])).toBeCloseTo(2 / 3, 12);
    expect(wordOverlap('', ['a red square'])).toBe(0);
    const metric = createWordOverlapMetric();
    const result = await metric.score({
      references: { a: ['a red circle', 'a circle'], b: ['two blue squares'] },
      predictions: { a: 'a red circle', b: 'one green square' },
    });
    expect(result.perImage).toEqual({ a: 1, b: 0 });
    expect(result.score).toBe(0.5);
  });
});

describe('synth2Plugin', () => {
  it('should register its caption source when loaded by package name', async () => {
    await loadPlugins(['synth2-plugin-caption-templates']);
    const source = await getRegistries().captionSources.create('example/templates', { templates: ['a {concepts}'] });
    const result = await source.doGenerate({ concepts: [{ id: 'x', name: 'kite', kind: 'object', synonyms: [] }], n: 1 });
    expect(result.captions).toEqual(['a kite']);
  });

  it('should register its metric (the id evaluateCaptions and synth2 eval --metrics take)', async () => {
    await loadPlugins(['synth2-plugin-caption-templates']);
    expect(getRegistries().metrics.list()).toContainEqual(
      expect.objectContaining({ id: 'example/word-overlap', plugin: 'synth2-plugin-caption-templates' }),
    );
    const metric = await getRegistries().metrics.create('example/word-overlap');
    const result = await metric.score({ references: { x: ['a kite in the sky'] }, predictions: { x: 'a red kite' } });
    expect(result.perImage).toEqual({ x: 2 / 3 });
  });
});
