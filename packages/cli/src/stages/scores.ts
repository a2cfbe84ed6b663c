import { z } from 'zod';

const MetricsSchema = z.record(z.string(), z.number());
const NamingSchema = z.object({
  images: z.number().int().nonnegative(),
  color: z.number(),
  shape: z.number(),
  both: z.number(),
});
const nullableNumber = z.number().nullable();

/** One model's scores on the test split, as the evaluate stage writes them. */
export const ModelScoresSchema = z.object({
  all: MetricsSchema,
  heldOut: MetricsSchema.optional(),
  heldOutPairRecall: z.number().optional(),
  /** Colour/shape naming accuracy on single-object test images (shapes world only). */
  objectNaming: z.object({ seen: NamingSchema.optional(), heldOut: NamingSchema.optional() }).optional(),
  predictions: z.record(z.string(), z.string()),
  /** Per-image CIDEr-D in test-split order (all images; held-out images), for the paired bootstrap. */
  perImageCider: z.object({ all: z.array(z.number()), heldOut: z.array(z.number()).optional() }).optional(),
});
export type ModelScores = z.infer<typeof ModelScoresSchema>;

const BootstrapSchema = z.object({
  ratioInterval: z.tuple([nullableNumber, nullableNumber]),
  differenceInterval: z.tuple([z.number(), z.number()]),
  shareBetter: z.number(),
  level: z.number(),
  samples: z.number().int(),
});

const RatioSchema = z.object({
  baseline: z.number().optional(),
  synth2: z.number().optional(),
  ratio: z.number().optional(),
  bootstrap: BootstrapSchema.optional(),
});

/** The summary of the comparison (Synth² vs baseline) in `scores.json`. */
export const ScoresSummarySchema = z.object({
  ciderAll: RatioSchema,
  ciderHeldOut: RatioSchema,
  heldOutPairRecall: z.object({ baseline: z.number().optional(), synth2: z.number().optional() }),
  objectNaming: z.object({
    baseline: ModelScoresSchema.shape.objectNaming,
    synth2: ModelScoresSchema.shape.objectNaming,
  }),
  gapClosed: z.number().optional(),
});
export type ScoresSummary = z.infer<typeof ScoresSummarySchema>;

/** A caption-diversity summary (see `captionDiversity` in @synth2/eval), clusters without per-caption assignments. */
const DiversitySchema = z.object({
  captions: z.number(),
  tokens: z.number(),
  vocabularySize: z.number(),
  distinct1: z.number(),
  distinct2: z.number(),
  length: z.object({
    mean: z.number(),
    std: z.number(),
    min: z.number(),
    max: z.number(),
    median: z.number(),
  }),
  clusters: z.object({
    k: z.number().optional(),
    seed: z.number().optional(),
    iterations: z.number().optional(),
    sizes: z.array(z.number()).optional(),
    top5Share: z.number().optional(),
    entropy: z.number().optional(),
    normalizedEntropy: z.number().optional(),
  }),
});
export type DiversitySummary = z.infer<typeof DiversitySchema>;

/** `evaluate/scores.json`: every model's scores, the caption diversity, and the summary. */
export const ScoresFileSchema = z.object({
  models: z.record(z.string(), ModelScoresSchema),
  diversity: z.record(z.string(), DiversitySchema),
  summary: ScoresSummarySchema,
  testImages: z.number().int().nonnegative(),
  heldOutTestImages: z.number().int().nonnegative(),
});
export type ScoresFile = z.infer<typeof ScoresFileSchema>;

/** `generate/gallery.json`: a few decoded generations. */
export const GallerySchema = z.array(z.object({ caption: z.string(), png: z.string() }));

/** A row of a trainer's `metrics.jsonl`: a training step (with its loss) or a validation (the report draws the loss curve). */
export const MetricsRowSchema = z.looseObject({ step: z.number(), loss: z.number().optional() });
