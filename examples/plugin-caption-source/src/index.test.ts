import { describe, expect, it } from 'vitest';
import { getRegistries, loadPlugins } from '@synth2/core';
import { createTemplateCaptionSource } from './index';

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

describe('synth2Plugin', () => {
  it('should register its caption source when loaded by package name', async () => {
    await loadPlugins(['synth2-plugin-caption-templates']);
    const source = await getRegistries().captionSources.create('example/templates', { templates: ['a {concepts}'] });
    const result = await source.doGenerate({ concepts: [{ id: 'x', name: 'kite', kind: 'object', synonyms: [] }], n: 1 });
    expect(result.captions).toEqual(['a kite']);
  });
});
