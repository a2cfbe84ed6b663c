import { createHash } from 'node:crypto';
import { ConfigurationError, ImageCaptionPairSchema, Rng } from '@synth2/core';
import { describe, expect, it } from 'vitest';
import { checkCaption, mentionedPairs } from './caption-checker';
import { COLOR_NAMES, SHAPE_NAMES } from './inventory';
import { chooseHeldOutPairs, makeSplits, type ShapesSplit } from './splits';

const key = (p: { color: string; shape: string }) => `${p.color} ${p.shape}`;
const objectPairs = (split: ShapesSplit) =>
  split.items.flatMap((it) => it.scene.objects.map((o) => `${o.color} ${o.shape}`));

describe('chooseHeldOutPairs', () => {
  it('should hold out 16 of 64 pairs leaving every colour and shape 6 partners', () => {
    for (const seed of [0, 1, 2, 3]) {
      const pairs = chooseHeldOutPairs(COLOR_NAMES, SHAPE_NAMES, 0.25, new Rng(seed));
      expect(pairs).toHaveLength(16);
      expect(new Set(pairs.map(key)).size).toBe(16);
      for (const c of COLOR_NAMES) expect(pairs.filter((p) => p.color === c)).toHaveLength(2);
      for (const s of SHAPE_NAMES) expect(pairs.filter((p) => p.shape === s)).toHaveLength(2);
    }
  });
});

describe('makeSplits', () => {
  // the demo's configuration (smaller train to keep the test quick)
  const splits = makeSplits({ train: 800, val: 150, test: 300, holdOutFraction: 0.25, seed: 4 });
  const heldOut = new Set(splits.manifest.heldOutPairs.map(key));

  it('should list the held-out pairs in the manifest', () => {
    expect(splits.manifest.heldOutPairs).toHaveLength(16);
    expect(splits.manifest.format).toBe('synth2-shapes-splits');
    expect(splits.manifest.splits.test).toEqual({ count: 300, heldOutImages: 100 });
    expect(splits.train.heldOutPairs).toEqual(splits.manifest.heldOutPairs);
    expect(JSON.parse(JSON.stringify(splits.manifest))).toEqual(splits.manifest);
  });

  it('should keep held-out pairs out of train images and captions', () => {
    expect(objectPairs(splits.train).filter((p) => heldOut.has(p))).toEqual([]);
    for (const item of splits.train.items)
      for (const c of item.captions) expect(mentionedPairs(c).filter((p) => heldOut.has(p)), c).toEqual([]);
    // every colour and every shape still appears in train
    const seen = new Set(objectPairs(splits.train));
    for (const c of COLOR_NAMES) expect([...seen].some((p) => p.startsWith(`${c} `))).toBe(true);
    for (const s of SHAPE_NAMES) expect([...seen].some((p) => p.endsWith(` ${s}`))).toBe(true);
    // 48 seen pairs all occur
    expect(seen.size).toBe(48);
  });

  it('should put held-out pairs in about a third of val and test images, covering every pair', () => {
    for (const split of [splits.val, splits.test]) {
      const withHeldOut = split.items.filter((it) => it.scene.objects.some((o) => heldOut.has(`${o.color} ${o.shape}`)));
      expect(withHeldOut.length).toBe(Math.round(split.items.length / 3));
      expect(withHeldOut.every((it) => (it.meta?.heldOutPairs as string[]).length > 0)).toBe(true);
    }
    const testPairs = new Set(objectPairs(splits.test));
    for (const p of heldOut) expect(testPairs.has(p), p).toBe(true);
    const captionPairs = new Set(splits.test.items.flatMap((it) => it.captions.flatMap(mentionedPairs)));
    expect([...heldOut].filter((p) => captionPairs.has(p)).length).toBe(16);
  });

  it('should expose items as ImageCaptionPairs with true captions, distinct ids, scene and pixels', () => {
    const ids = new Set<string>();
    for (const split of [splits.train, splits.val, splits.test])
      for (const item of split.items) {
        const { scene, pixels, ...pair } = item;
        expect(ImageCaptionPairSchema.parse(pair).imageId).toBe(item.imageId);
        expect(pixels.length).toBe(32 * 32 * 3);
        for (const c of item.captions) expect(checkCaption(c, scene).ok).toBe(true);
        ids.add(item.imageId);
      }
    expect(ids.size).toBe(800 + 150 + 300);
    // splits draw different scenes
    const h = (s: ShapesSplit) => new Set(s.items.map((it) => createHash('sha1').update(it.pixels).digest('hex')));
    const train = h(splits.train);
    expect([...h(splits.test)].filter((x) => train.has(x)).length).toBeLessThan(5);
  });

  it('should be deterministic in its seed', () => {
    const a = makeSplits({ train: 50, val: 10, test: 30, holdOutFraction: 0.25, seed: 4 });
    const b = makeSplits({ train: 50, val: 10, test: 30, holdOutFraction: 0.25, seed: 4 });
    expect(a.manifest).toEqual(b.manifest);
    expect(a.test.items.map((i) => i.captions)).toEqual(b.test.items.map((i) => i.captions));
    expect(Buffer.concat(a.test.items.map((i) => i.pixels))).toEqual(Buffer.concat(b.test.items.map((i) => i.pixels)));
    expect(a.manifest.heldOutPairs).toEqual(splits.manifest.heldOutPairs);
    const c = makeSplits({ train: 50, holdOutFraction: 0.25, seed: 5 });
    expect(c.manifest.heldOutPairs).not.toEqual(a.manifest.heldOutPairs);
  });

  it('should make plain splits without hold-out', () => {
    const s = makeSplits({ train: 20, test: 10, world: { imageSize: 64, maxObjects: 3 } });
    expect(s.manifest.heldOutPairs).toEqual([]);
    expect(s.val.items).toHaveLength(0);
    expect(s.test.items[0].pixels.length).toBe(64 * 64 * 3);
  });

  it('should reject bad options with a ConfigurationError naming the option', () => {
    expect(() => makeSplits({ train: -1 })).toThrow(ConfigurationError);
    expect(() => makeSplits({ train: 10, holdOutFraction: 0.8 })).toThrow(/holdOutFraction/);
    expect(() => makeSplits({ train: 10, holdOutFraction: 0.001 })).toThrow(/holds out no pair/);
    expect(() => makeSplits({ train: 1.5 })).toThrow(/train/);
  });
});
