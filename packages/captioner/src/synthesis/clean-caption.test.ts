import { describe, expect, it } from 'vitest';
import { cleanCaptionText, normalizeCaption } from './clean-caption';
import { CaptionDeduper } from './dedupe';
import { createCaptionFilter } from './caption-filters';

describe('cleanCaptionText', () => {
  it('should strip quotes, labels, preambles, numbering and markdown', () => {
    expect(cleanCaptionText('"A man riding a horse on a beach."')).toEqual([{ text: 'A man riding a horse on a beach.' }]);
    expect(cleanCaptionText('Caption: A cat on a windowsill.')).toEqual([{ text: 'A cat on a windowsill.' }]);
    expect(cleanCaptionText("Sure! Here's a caption:\n\n**A bus parked by the curb.**")).toEqual([{ text: 'A bus parked by the curb.' }]);
    expect(cleanCaptionText('“A plate of pasta with basil.”')).toEqual([{ text: 'A plate of pasta with basil.' }]);
  });
  it('should split a numbered list into several captions', () => {
    expect(cleanCaptionText('1. A dog on grass.\n2) A dog in a car.\n- A dog asleep.').map((c) => c.text)).toEqual([
      'A dog on grass.',
      'A dog in a car.',
      'A dog asleep.',
    ]);
  });
  it('should mark refusals and empty answers', () => {
    expect(cleanCaptionText("I'm sorry, I can't do that.")[0].reject).toBe('refusal');
    expect(cleanCaptionText('As an AI language model, I cannot see images.')[0].reject).toBe('refusal');
    expect(cleanCaptionText('  \n ')[0].reject).toBe('empty');
  });
});

describe('CaptionDeduper', () => {
  it('should find exact duplicates after normalisation', () => {
    const d = new CaptionDeduper();
    d.add('A red circle on the left.');
    expect(d.check('a red circle, on the left')).toBe('exact-duplicate');
    expect(normalizeCaption('A  Red circle!')).toBe('a red circle');
  });
  it('should find near-duplicates but keep captions that differ in what they say', () => {
    const d = new CaptionDeduper({ threshold: 0.8 });
    d.add('a black and white dog is jumping high to catch a red frisbee on the beach');
    expect(d.check('a black and white dog is jumping high to catch a red frisbee on the beach today')).toBe('near-duplicate');
    d.add('a red circle to the left of a blue square');
    expect(d.check('a blue circle to the left of a red square')).toBeUndefined();
    expect(d.check('a red circle to the right of a blue square')).toBeUndefined();
    expect(new CaptionDeduper({ mode: 'exact' }).check('anything')).toBeUndefined();
  });
  it('should scale to many captions', () => {
    const d = new CaptionDeduper();
    const t0 = performance.now();
    for (let i = 0; i < 5000; i++) {
      const text = `a caption number ${i} about thing ${i % 97} in place ${i % 13}`;
      if (!d.check(text)) d.add(text);
    }
    expect(d.size).toBeGreaterThan(4000);
    expect(performance.now() - t0).toBeLessThan(20_000);
  });
});

describe('createCaptionFilter', () => {
  it('should match concept names, synonyms and plurals on word boundaries', () => {
    const f = createCaptionFilter();
    const puppy = { id: 'dog', name: 'dog', kind: 'object' as const, synonyms: ['puppy'] };
    const glass = { id: 'glass', name: 'wine glass', kind: 'object' as const, synonyms: [] };
    expect(f.check('two dogs in a park', [puppy])).toBeUndefined();
    expect(f.check('a puppy asleep on a rug', [puppy])).toBeUndefined();
    expect(f.check('a hotdog stand by the road', [puppy])).toBe('missing-concept');
    expect(f.check('two wine glasses on a table', [glass])).toBeUndefined();
    expect(f.check('a cat on a sofa by the window', [puppy])).toBe('missing-concept');
    expect(createCaptionFilter({ mustMention: 'any' }).check('a dog by a tree', [puppy, glass])).toBeUndefined();
  });
  it('should apply length bounds, banned phrases and a custom check', () => {
    const f = createCaptionFilter({ minWords: 3, maxWords: 6, mustMention: false, custom: (t) => (t.includes('beautiful') ? 'subjective' : undefined) });
    expect(f.check('a dog', [])).toBe('too-short');
    expect(f.check('a dog and a cat and a bird', [])).toBe('too-long');
    expect(f.check('an image of a dog', [])).toBe('banned-phrase');
    expect(f.check('a beautiful dog outside', [])).toBe('subjective');
    expect(f.check('a dog outside', [])).toBeUndefined();
  });
});
