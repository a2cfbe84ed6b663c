import { z } from 'zod';

/** A visual concept: an object class, an attribute, a relation, a place or background. */
export const ConceptSchema = z.object({
  /** Stable id, e.g. `shape:circle` or `coco:dog`. */
  id: z.string().min(1),
  /** Canonical surface form used in prompts, e.g. `circle`. */
  name: z.string().min(1),
  kind: z
    .enum(['object', 'attribute', 'color', 'shape', 'size', 'position', 'relation', 'place', 'background', 'other'])
    .default('object'),
  /** Other words an annotator may use for it. */
  synonyms: z.array(z.string()).default([]),
  /** Optional relative sampling weight. */
  weight: z.number().nonnegative().optional(),
});
/** One concept (`ConceptSchema`), defaults filled in. */
export type Concept = z.infer<typeof ConceptSchema>;
/** One concept as written (`ConceptSchema`'s input). */
export type ConceptInput = z.input<typeof ConceptSchema>;

/** Token usage reported by an LLM provider. */
export const TokenUsageSchema = z.object({
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  totalTokens: z.number().int().nonnegative().optional(),
});
/** Token usage reported by an LLM provider (`TokenUsageSchema`). */
export type TokenUsage = z.infer<typeof TokenUsageSchema>;

/** Where a caption came from (provider id, model, prompt, usage…). Free-form extras are kept. */
export const ProviderMetadataSchema = z
  .object({
    provider: z.string(),
    model: z.string().optional(),
    promptId: z.string().optional(),
    usage: TokenUsageSchema.optional(),
    requestId: z.string().optional(),
    finishReason: z.string().optional(),
  })
  .passthrough();
/** Where a caption came from (`ProviderMetadataSchema`). */
export type ProviderMetadata = z.infer<typeof ProviderMetadataSchema>;

/** Whether a caption was written by a person (`human`) or made (`synthetic`). */
export const CaptionSourceKindSchema = z.enum(['human', 'synthetic']);
/** `human` or `synthetic` (`CaptionSourceKindSchema`). */
export type CaptionSourceKind = z.infer<typeof CaptionSourceKindSchema>;

/** One caption, human or synthetic: the unit of every captions JSONL file. */
export const CaptionRecordSchema = z.object({
  id: z.string().min(1),
  text: z.string().min(1),
  /** Concept ids (or names) the caption was written about. */
  concepts: z.array(z.string()).default([]),
  source: CaptionSourceKindSchema,
  /** For human captions: the image they describe. */
  imageId: z.string().optional(),
  provider: ProviderMetadataSchema.optional(),
  createdAt: z.string().optional(),
});
/** One caption record (`CaptionRecordSchema`), defaults filled in. */
export type CaptionRecord = z.infer<typeof CaptionRecordSchema>;
/** One caption record as written (`CaptionRecordSchema`'s input). */
export type CaptionRecordInput = z.input<typeof CaptionRecordSchema>;

/** An image with its human captions, as produced by every dataset loader. */
export const ImageCaptionPairSchema = z.object({
  imageId: z.string().min(1),
  /** Path of the image file (absolute or relative to the dataset root), when the image lives on disk. */
  imagePath: z.string().optional(),
  captions: z.array(z.string().min(1)).min(1),
  width: z.number().int().positive().optional(),
  height: z.number().int().positive().optional(),
  /** Concept ids present in the image, when known (e.g. the shapes world's scene description). */
  concepts: z.array(z.string()).optional(),
  meta: z.record(z.string(), z.unknown()).optional(),
});
/** An image with its human captions (`ImageCaptionPairSchema`). */
export type ImageCaptionPair = z.infer<typeof ImageCaptionPairSchema>;

/** The dtypes of a stored tensor: `F32`, `F16`, `I32`, `U16`, `U8`. */
export const TensorDTypeSchema = z.enum(['F32', 'F16', 'I32', 'U16', 'U8']);
/** A stored tensor's dtype (`TensorDTypeSchema`). */
export type TensorDType = z.infer<typeof TensorDTypeSchema>;

/** One shard file of a sharded tensor store. */
export const ShardEntrySchema = z.object({
  file: z.string().min(1),
  /** Number of items (rows) in the shard. */
  count: z.number().int().nonnegative(),
  /** Index of the shard's first item in the whole store. */
  start: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative().optional(),
  sha256: z.string().optional(),
});
/** One shard file of a sharded store (`ShardEntrySchema`). */
export type ShardEntry = z.infer<typeof ShardEntrySchema>;

/**
 * Manifest of a sharded store of embeddings or token grids (`manifest.json` beside `shard-00000.safetensors`…).
 * Each shard holds tensors named by `tensors` with a leading item dimension, plus `ids` in the manifest order.
 */
export const EmbeddingShardManifestSchema = z.object({
  format: z.literal('synth2-shards'),
  version: z.literal(1),
  /** What the rows are, e.g. `image-embeddings` or `image-tokens`. */
  kind: z.string().min(1),
  /** Per-tensor dtype and per-item shape (without the leading item dimension). */
  tensors: z.record(z.string(), z.object({ dtype: TensorDTypeSchema, shape: z.array(z.number().int().nonnegative()) })),
  shards: z.array(ShardEntrySchema),
  total: z.number().int().nonnegative(),
  /** Set when the producer has finished; an incomplete store can be appended to (resume). */
  complete: z.boolean().default(false),
  meta: z.record(z.string(), z.unknown()).default({}),
});
/** A sharded store's manifest (`EmbeddingShardManifestSchema`). */
export type EmbeddingShardManifest = z.infer<typeof EmbeddingShardManifestSchema>;

/** The status of a pipeline stage: `pending`, `running`, `done` or `failed`. */
export const StageStatusSchema = z.enum(['pending', 'running', 'done', 'failed']);
/** The status of a pipeline stage (`StageStatusSchema`). */
export type StageStatus = z.infer<typeof StageStatusSchema>;

/** State of one pipeline stage inside a run directory. */
export const StageRecordSchema = z.object({
  status: StageStatusSchema,
  /** Hash of the stage's effective settings and its inputs' hashes: a change reruns the stage and its successors. */
  configHash: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  /** Paths, relative to the run directory, of what the stage wrote. */
  outputs: z.array(z.string()).default([]),
  /** Small numeric summaries (losses, counts, timings). */
  summary: z.record(z.string(), z.unknown()).default({}),
  error: z.string().optional(),
});
/** State of one pipeline stage (`StageRecordSchema`). */
export type StageRecord = z.infer<typeof StageRecordSchema>;

/** `manifest.json` of a run directory. */
export const RunManifestSchema = z.object({
  format: z.literal('synth2-run'),
  version: z.literal(1),
  runId: z.string().min(1),
  createdAt: z.string(),
  updatedAt: z.string(),
  seed: z.number().int(),
  /** The fully resolved configuration the run used. */
  config: z.record(z.string(), z.unknown()),
  backend: z.string().optional(),
  stages: z.record(z.string(), StageRecordSchema).default({}),
});
/** A run directory's `manifest.json` (`RunManifestSchema`). */
export type RunManifest = z.infer<typeof RunManifestSchema>;

/**
 * A world's visual vocabulary, grouped the way a caption writer uses it. Dataset packages export one (the shapes
 * world does); caption sources (the concept grammar, LLM prompts) write captions from it alone.
 */
export const ConceptInventorySchema = z.object({
  name: z.string().min(1),
  /** Nouns: object classes or shapes (`circle`, `dog`). */
  objects: z.array(ConceptSchema).min(1),
  /** Adjectives applicable to objects, with `kind` color / size / attribute. */
  attributes: z.array(ConceptSchema).default([]),
  /** Spatial relations between two objects; `name` is the phrase (`to the left of`, `above`). */
  relations: z.array(ConceptSchema).default([]),
  /** Absolute positions in the frame (`on the left`, `in the top right corner`). */
  positions: z.array(ConceptSchema).default([]),
  /** Places or backgrounds; `name` is the noun phrase (`a white background`, `a kitchen`). */
  places: z.array(ConceptSchema).default([]),
});
/** A world's visual vocabulary (`ConceptInventorySchema`), defaults filled in. */
export type ConceptInventory = z.infer<typeof ConceptInventorySchema>;
/** A world's visual vocabulary as written (`ConceptInventorySchema`'s input). */
export type ConceptInventoryInput = z.input<typeof ConceptInventorySchema>;
