import { parseCaption } from '@synth2/datasets';

/** Colour and shape of an object, as in a test item's `meta.objects`. */
export interface ObjectLabel {
  color: string;
  shape: string;
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
 * Object-naming accuracy of a model's captions on single-object images (the shapes world's scene metadata),
 * separately for images whose colour–shape pair was seen in training and for held-out pairs. Shows what CIDEr
 * hides: whether a model reads shape from the embeddings at all.
 */
export function objectNaming(
  items: readonly { caption: string; objects: readonly ObjectLabel[] }[],
  heldOutPairs: ReadonlySet<string>,
): { seen?: ObjectNaming; heldOut?: ObjectNaming } {
  const acc = { seen: [0, 0, 0, 0], heldOut: [0, 0, 0, 0] };
  for (const it of items) {
    if (it.objects.length !== 1) continue;
    const o = it.objects[0];
    const mentions = parseCaption(it.caption).mentions;
    const color = mentions.find((m) => m.color !== undefined)?.color;
    const shape = mentions.find((m) => m.shape !== undefined)?.shape;
    const a = heldOutPairs.has(`${o.color} ${o.shape}`) ? acc.heldOut : acc.seen;
    a[0]++;
    if (color === o.color) a[1]++;
    if (shape === o.shape) a[2]++;
    if (color === o.color && shape === o.shape) a[3]++;
  }
  const share = ([n, c, s, b]: number[]): ObjectNaming | undefined => (n ? { images: n, color: c / n, shape: s / n, both: b / n } : undefined);
  return { seen: share(acc.seen), heldOut: share(acc.heldOut) };
}
