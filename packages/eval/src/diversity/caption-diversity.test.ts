import { ConfigurationError, InvalidInputError } from '@synth2/core';
import { describe, expect, it } from 'vitest';
import { captionDiversity } from './caption-diversity';

const animals = ['cat', 'dog', 'horse', 'bird', 'cow', 'sheep', 'zebra', 'bear', 'elephant', 'giraffe'];
const places = ['on the beach', 'in a kitchen', 'on a street', 'in a field', 'near a lake', 'in the snow'];

describe('captionDiversity', () => {
  it('should count vocabulary, distinct-n and lengths on tokenized captions', () => {
    const d = captionDiversity(['A dog runs.', 'A dog runs!', 'The cat sleeps on a mat.'], { k: 2 });
    expect(d.captions).toBe(3);
    expect(d.tokens).toBe(3 + 3 + 6);
    expect(d.vocabularySize).toBe(8); // a dog runs the cat sleeps on mat
    expect(d.distinct1).toBeCloseTo(8 / 12, 12);
    expect(d.distinct2).toBeCloseTo(7 / 9, 12); // a-dog dog-runs the-cat cat-sleeps sleeps-on on-a a-mat
    expect(d.length).toEqual({ mean: 4, std: Math.sqrt(2), min: 3, max: 6, median: 3 });
  });

  it('should find a collapsed caption set concentrated and a varied one balanced', () => {
    const collapsed = Array.from({ length: 60 }, (_, i) => (i < 55 ? 'a dog on the beach' : `a ${animals[i % 10]} ${places[i % 6]}`));
    const varied = Array.from({ length: 60 }, (_, i) => `a ${animals[i % 10]} ${places[Math.floor(i / 10)]}`);
    const c = captionDiversity(collapsed, { k: 10, seed: 1 });
    const v = captionDiversity(varied, { k: 10, seed: 1 });
    expect(c.clusters.top5Share).toBeGreaterThan(0.95);
    expect(v.clusters.top5Share).toBeLessThan(0.8);
    expect(v.clusters.entropy).toBeGreaterThan(c.clusters.entropy + 0.5);
    expect(v.clusters.sizes.reduce((a, b) => a + b, 0)).toBe(60);
    expect(v.clusters.assignments).toHaveLength(60);
  });

  it('should be deterministic for a seed', () => {
    const caps = Array.from({ length: 40 }, (_, i) => `a ${animals[(i * 7) % 10]} ${places[(i * 5) % 6]} with ${animals[i % 10]}`);
    expect(captionDiversity(caps, { k: 6, seed: 3 }).clusters).toEqual(captionDiversity(caps, { k: 6, seed: 3 }).clusters);
  });

  it('should measure concept coverage and balance, with synonyms and multi-word names', () => {
    const d = captionDiversity(['a puppy on a fire truck', 'a dog near a fire truck', 'a cat'], {
      k: 2,
      concepts: [{ id: 'coco:dog', name: 'dog', synonyms: ['puppy'] }, 'fire truck', 'cat', 'zebra'],
    });
    expect(d.concepts!.counts).toEqual([
      { concept: 'coco:dog', count: 2 },
      { concept: 'fire truck', count: 2 },
      { concept: 'cat', count: 1 },
      { concept: 'zebra', count: 0 },
    ]);
    expect(d.concepts!.coverage).toBe(0.75);
    const p = [0.4, 0.4, 0.2];
    expect(d.concepts!.entropy).toBeCloseTo(-p.reduce((a, x) => a + x * Math.log(x), 0), 12);
  });

  it('should reject bad input clearly', () => {
    expect(() => captionDiversity([])).toThrow(InvalidInputError);
    expect(() => captionDiversity(['ok', ''])).toThrow(/caption 1 is empty/);
    expect(() => captionDiversity(['ok', 3 as unknown as string])).toThrow(/caption 1 is not a string/);
    const e = (() => {
      try {
        captionDiversity(['a'], { k: 0 });
      } catch (x) {
        return x;
      }
    })();
    expect(ConfigurationError.isInstance(e)).toBe(true);
  });

  it('should use fewer clusters than asked when there are fewer distinct captions', () => {
    expect(captionDiversity(['a dog', 'a dog', 'a cat'], { k: 20 }).clusters.k).toBe(2);
  });
});
