import { z } from 'zod';
import { BACKGROUND_NAMES, COLOR_NAMES, SHAPE_NAMES, SIZE_NAMES } from './inventory';

/** Colour and shape of one object of a scene. */
export const ObjectLabelSchema = z.object({ color: z.string().min(1), shape: z.string().min(1) });
/** Colour and shape of one object (`ObjectLabelSchema`). */
export type ObjectLabel = z.infer<typeof ObjectLabelSchema>;

/**
 * What a stored shapes-world record keeps of its scene (a pipeline's per-item `meta`): whether the image holds a
 * held-out colour–shape pair, and the colour and shape of each object.
 */
export const ShapesItemMetaSchema = z.object({
  heldOut: z.boolean().optional(),
  objects: z.array(ObjectLabelSchema).optional(),
});
/** What a stored shapes-world record keeps of its scene (`ShapesItemMetaSchema`). */
export type ShapesItemMeta = z.infer<typeof ShapesItemMetaSchema>;

const count = z.number().int().nonnegative();
const SplitCountsSchema = z.object({ count, heldOutImages: count });

/** The manifest of {@link makeSplits} as stored in a file (`splits.json`), to read it back with checks. */
export const ShapesSplitManifestSchema = z.object({
  format: z.literal('synth2-shapes-splits'),
  version: z.literal(1),
  seed: z.number().int(),
  world: z.object({
    seed: z.number().int(),
    imageSize: z.union([z.literal(32), z.literal(64)]),
    minObjects: count,
    maxObjects: count,
    sizes: z.array(z.enum(SIZE_NAMES)),
    shapes: z.array(z.enum(SHAPE_NAMES)),
    colors: z.array(z.enum(COLOR_NAMES)),
    backgrounds: z.array(z.enum(BACKGROUND_NAMES)),
    captionsPerImage: count,
  }),
  holdOutFraction: z.number().min(0).max(1),
  heldOutShare: z.number().min(0).max(1),
  heldOutPairs: z.array(z.object({ color: z.enum(COLOR_NAMES), shape: z.enum(SHAPE_NAMES) })),
  splits: z.object({ train: SplitCountsSchema, val: SplitCountsSchema, test: SplitCountsSchema }),
});
