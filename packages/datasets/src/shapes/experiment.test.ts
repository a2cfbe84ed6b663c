import { describe, expect, it } from 'vitest';
import { ShapesItemMetaSchema, ShapesSplitManifestSchema } from './split-files';
import {
  colorShapePairConcepts,
  heldOutPairRecall,
  heldOutPairSet,
  objectNaming,
  pairGapCounts,
  pairMentionCounts,
  shapesItemMeta,
} from './experiment';
import { makeSplits } from './splits';

describe('objectNaming', () => {
  it('should score single-object captions by their colour and shape words, seen and held-out pairs apart', () => {
    const red = [{ color: 'red', shape: 'circle' }];
    const blue = [{ color: 'blue', shape: 'star' }];
    const r = objectNaming(
      [
        { caption: 'a red circle on a black background', objects: red },
        { caption: 'a small red ball in the top left corner', objects: red }, // synonym of circle
        { caption: 'a red square on a black background', objects: red }, // wrong shape
        { caption: 'a large circle in the middle', objects: red }, // no colour named
        { caption: 'a blue star', objects: blue },
        { caption: 'a green star', objects: blue },
        { caption: 'a red circle and a blue star', objects: [...red, ...blue] }, // two objects: not counted
      ],
      new Set(['blue star']),
    );
    expect(r.seen).toEqual({ images: 4, color: 0.75, shape: 0.75, both: 0.5 });
    expect(r.heldOut).toEqual({ images: 2, color: 0.5, shape: 1, both: 0.5 });
    expect(objectNaming([], new Set())).toEqual({ seen: undefined, heldOut: undefined });
  });
});

describe('heldOutPairRecall', () => {
  it('should count the held-out objects whose colour–shape pair the caption names', () => {
    const heldOut = heldOutPairSet([
      { color: 'blue', shape: 'star' },
      { color: 'red', shape: 'heart' },
    ]);
    const recall = heldOutPairRecall(
      [
        {
          caption: 'a blue star next to a red circle',
          objects: [
            { color: 'blue', shape: 'star' },
            { color: 'red', shape: 'circle' },
          ],
        },
        { caption: 'a red star', objects: [{ color: 'red', shape: 'heart' }] }, // wrong shape: a miss
        {
          caption: 'a red heart and a blue star',
          objects: [
            { color: 'red', shape: 'heart' },
            { color: 'green', shape: 'ring' },
          ],
        },
      ],
      heldOut,
    );
    expect(recall).toBe(2 / 3);
    expect(
      heldOutPairRecall([{ caption: 'a red circle', objects: [{ color: 'red', shape: 'circle' }] }], heldOut),
    ).toBeUndefined();
  });
});

describe('pairGapCounts', () => {
  const splits = makeSplits({ train: 40, val: 0, test: 10, holdOutFraction: 0.25, seed: 2 });
  const concepts = colorShapePairConcepts(splits.world.inventory);
  const human = splits.train.items.flatMap((it) => it.captions);

  it('should count how often the human captions name each colour–shape pair (held-out pairs: never)', () => {
    const counts = pairGapCounts(concepts, human)!;
    expect(counts).toHaveLength(concepts.length);
    const byName = new Map(concepts.map((item, i) => [`${item[0].name} ${item[1].name}`, counts[i]]));
    const mentions = pairMentionCounts(human);
    for (const [pair, n] of mentions) expect(byName.get(pair)).toBe(n);
    for (const p of splits.manifest.heldOutPairs) expect(byName.get(`${p.color} ${p.shape}`)).toBe(0);
    expect(counts.reduce((s, n) => s + n, 0)).toBe([...mentions.values()].reduce((s, n) => s + n, 0));
  });

  it('should give none for concepts that are not colour–shape pairs', () => {
    expect(pairGapCounts([[concepts[0][1]]], human)).toBeUndefined();
  });
});

describe('shapesItemMeta and the split file schemas', () => {
  it('should describe each item and read back a manifest written as JSON', () => {
    const splits = makeSplits({ train: 20, val: 0, test: 20, holdOutFraction: 0.25, seed: 5 });
    const heldOut = heldOutPairSet(splits.manifest.heldOutPairs);
    const metas = splits.test.items.map((it) => shapesItemMeta(it, heldOut));
    expect(metas.filter((m) => m.heldOut)).toHaveLength(splits.manifest.splits.test.heldOutImages);
    expect(ShapesItemMetaSchema.parse(JSON.parse(JSON.stringify(metas[0])))).toEqual(metas[0]);
    expect(ShapesSplitManifestSchema.parse(JSON.parse(JSON.stringify(splits.manifest)))).toEqual(
      splits.manifest,
    );
    const broken = { ...splits.manifest, heldOutPairs: [{ color: 'teal', shape: 'circle' }] };
    const issue = ShapesSplitManifestSchema.safeParse(broken).error?.issues[0];
    expect(issue?.path).toEqual(['heldOutPairs', 0, 'color']);
  });
});
