import type { Concept } from '@synth2/core';
import { mentionedPairs, parseCaption } from './caption-checker';
import type { ShapesItem } from './shapes-world';
import { pairKey } from './scene';
import type { ObjectLabel, ShapesItemMeta } from './split-files';

/** The key of a colour–shape pair, as {@link mentionedPairs} writes it: `"red circle"`. */
const keyOf = (pair: { color: string; shape: string }): string => pairKey(pair.color, pair.shape);

/** The held-out pairs of a split manifest as a set of `"color shape"` keys (as {@link mentionedPairs} writes them). */
export const heldOutPairSet = (pairs: readonly { color: string; shape: string }[] | undefined): Set<string> =>
  new Set((pairs ?? []).map(keyOf));

/** The {@link ShapesItemMeta} of an item, given the held-out pairs (see {@link heldOutPairSet}). */
export function shapesItemMeta(
  item: ShapesItem,
  heldOutPairs: ReadonlySet<string>,
): Required<ShapesItemMeta> {
  return {
    heldOut: item.scene.objects.some((o) => heldOutPairs.has(keyOf(o))),
    objects: item.scene.objects.map((o) => ({ color: o.color, shape: o.shape })),
  };
}

/** Concept items for synthetic captions: every colour–shape pair of an inventory (`[color, shape]`). */
export function colorShapePairConcepts(inventory: {
  objects: Concept[];
  attributes: Concept[];
}): Concept[][] {
  const colors = inventory.attributes.filter((a) => a.kind === 'color');
  return colors.flatMap((color) => inventory.objects.map((shape) => [color, shape]));
}

/** How often captions name each colour–shape pair (`"red circle"` → count), by {@link mentionedPairs}. */
export function pairMentionCounts(captions: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const caption of captions)
    for (const pair of mentionedPairs(caption)) counts.set(pair, (counts.get(pair) ?? 0) + 1);
  return counts;
}

/**
 * Gap filling in the shapes world: for each concept item (a `[color, shape]` pair, see
 * {@link colorShapePairConcepts}), how often the given human captions name that pair — the counts a gap-filling
 * sampler (the captioner's `gapFillingWeights`) evens out. `undefined` when an item is not a colour–shape pair.
 */
export function pairGapCounts(
  concepts: readonly (readonly Concept[])[],
  humanCaptions: Iterable<string>,
): number[] | undefined {
  const pairs = concepts.map((item) => {
    const color = item.find((x) => x.kind === 'color');
    const shape = item.find((x) => x.kind !== 'color');
    return item.length === 2 && color && shape ? `${color.name} ${shape.name}` : undefined;
  });
  if (pairs.some((x) => x === undefined)) return undefined;
  const counts = pairMentionCounts(humanCaptions);
  return pairs.map((x) => counts.get(x!) ?? 0);
}

/** A model's caption of an image and the objects the image holds. */
export interface CaptionedScene {
  caption: string;
  objects: readonly ObjectLabel[];
}

/**
 * Held-out pair recall: of the objects whose colour–shape pair is held out (see {@link heldOutPairSet}), the share whose
 * pair the image's caption names ({@link mentionedPairs}). `undefined` when no image holds a held-out pair.
 */
export function heldOutPairRecall(
  items: readonly CaptionedScene[],
  heldOutPairs: ReadonlySet<string>,
): number | undefined {
  let total = 0;
  let hit = 0;
  for (const it of items) {
    const named = new Set(mentionedPairs(it.caption));
    for (const o of it.objects) {
      const key = keyOf(o);
      if (!heldOutPairs.has(key)) continue;
      total++;
      if (named.has(key)) hit++;
    }
  }
  return total ? hit / total : undefined;
}

/** How often captions of single-object images name the object's colour and shape. */
export interface ObjectNaming {
  /** Single-object images counted. */
  images: number;
  /** Share whose caption's first colour word is the object's colour (a caption naming no colour counts as wrong). */
  color: number;
  /** Share whose caption's first shape word (synonyms resolved) is the object's shape. */
  shape: number;
  /** Share with both right. */
  both: number;
}

/**
 * Object-naming accuracy of captions on single-object images, separately for images whose colour–shape pair was
 * seen in training and for held-out pairs (see {@link heldOutPairSet}): whether a model reads colour and shape at all.
 */
export function objectNaming(
  items: readonly CaptionedScene[],
  heldOutPairs: ReadonlySet<string>,
): { seen?: ObjectNaming; heldOut?: ObjectNaming } {
  const acc = { seen: [0, 0, 0, 0], heldOut: [0, 0, 0, 0] };
  for (const it of items) {
    if (it.objects.length !== 1) continue;
    const o = it.objects[0];
    const mentions = parseCaption(it.caption).mentions;
    const color = mentions.find((m) => m.color !== undefined)?.color;
    const shape = mentions.find((m) => m.shape !== undefined)?.shape;
    const a = heldOutPairs.has(keyOf(o)) ? acc.heldOut : acc.seen;
    a[0]++;
    if (color === o.color) a[1]++;
    if (shape === o.shape) a[2]++;
    if (color === o.color && shape === o.shape) a[3]++;
  }
  const share = ([n, c, s, b]: number[]): ObjectNaming | undefined =>
    n ? { images: n, color: c / n, shape: s / n, both: b / n } : undefined;
  return { seen: share(acc.seen), heldOut: share(acc.heldOut) };
}
