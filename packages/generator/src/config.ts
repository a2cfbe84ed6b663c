import { z } from 'zod';
import { ConfigurationError } from '@synth2/core';
import { schemaKeys, unknownKeysError } from '@synth2/core/internal';

/** Architecture of a {@link VQTokenizer}: a small conv encoder, a K×d codebook and a mirrored conv decoder. */
export const TokenizerConfigSchema = z
  .object({
    /** Side of the square input images, in pixels. */
    imageSize: z.number().int().positive().default(32),
    channels: z.number().int().positive().default(3),
    /** Channel widths of the down-sampling stages; each stage halves the resolution (32 → 8 with two stages). */
    hidden: z.array(z.number().int().positive()).min(1).max(4).default([32, 32]),
    /** Residual blocks at the token resolution, in the encoder and again in the decoder. */
    resBlocks: z.number().int().nonnegative().default(1),
    codebookSize: z.number().int().min(2).default(128),
    codeDim: z.number().int().positive().default(32),
    /** Weight of the commitment loss ‖z − sg(q)‖². */
    commitment: z.number().nonnegative().default(0.25),
    seed: z.number().int().default(0),
  })
  .strict();
/** Architecture of a `VQTokenizer` (`TokenizerConfigSchema`), defaults filled in. */
export type TokenizerConfig = z.infer<typeof TokenizerConfigSchema>;
/** Architecture of a `VQTokenizer` as written (`TokenizerConfigSchema`'s input). */
export type TokenizerConfigInput = z.input<typeof TokenizerConfigSchema>;

/** Architecture of a {@link CaptionTokenGenerator}: caption encoder + bidirectional transformer over grouped tokens. */
export const GeneratorConfigSchema = z
  .object({
    /** Caption vocabulary (core `Vocabulary` JSON), stored with the checkpoint so ids never drift. */
    vocabulary: z.unknown(),
    /** Captions are truncated/padded to this many word ids. */
    maxCaptionLength: z.number().int().positive().default(16),
    /** Token grid of the tokenizer the generator produces for. */
    gridHeight: z.number().int().positive().default(8),
    gridWidth: z.number().int().positive().default(8),
    codebookSize: z.number().int().min(2).default(128),
    /** Tokens are grouped g×g into one sequence position (2 → an 8×8 grid becomes 16 positions of 4 tokens). */
    group: z.number().int().positive().default(2),
    dim: z.number().int().positive().default(64),
    heads: z.number().int().positive().default(4),
    layers: z.number().int().positive().default(3),
    captionLayers: z.number().int().nonnegative().default(1),
    mlpRatio: z.number().positive().default(4),
    /** Share of training examples whose caption is dropped (for classifier-free guidance). */
    captionDropout: z.number().min(0).max(1).default(0.1),
    labelSmoothing: z.number().min(0).max(0.5).default(0.1),
    /**
     * Loss weight of a target token ∝ (frequency of its code in the training grids)^−α: rare codes (objects) count
     * more than the codes of large uniform areas (backgrounds). 0 = plain average.
     */
    frequencyWeighting: z.number().min(0).max(1).default(0),
    /**
     * Width of the tokenizer's code vectors, to read and predict tokens through them (0 = off: tokens are plain
     * ids). The generator then needs the tokenizer's codebook: `generator.setCodebook(tokenizer.codebook)` before
     * training (it is saved with the generator).
     */
    codebookDim: z.number().int().nonnegative().default(0),
    /** Row + column position embeddings over the grid of positions instead of one learned vector per position. */
    axialPositions: z.boolean().default(false),
    /**
     * Standard deviation of the initial word and token embeddings (0.02 as GPT-2; 1 as PyTorch's default for
     * embeddings, which keeps a small generator's inputs on the scale of its other signals).
     */
    embeddingInitStd: z.number().positive().default(0.02),
    /**
     * Side of a convolution over the grid of positions before every transformer block (a residual branch:
     * LayerNorm → k×k conv → GELU → linear; 0 = off, odd sizes only). The convolution applies the same weights at
     * every position, so what is learned about an object's look at one place is shared by all places.
     */
    convKernel: z
      .number()
      .int()
      .nonnegative()
      .refine((k) => k === 0 || k % 2 === 1, 'must be 0 (off) or odd')
      .default(0),
    /**
     * Retrieval-augmented generation: besides the caption, the transformer cross-attends to the token grid of a
     * real training image retrieved by an exemplar key (e.g. the caption's shape, size and position without its
     * colour), so it can take an object's geometry from a real example and its colour from the caption. Training
     * examples and captions to generate carry `exemplarKeys`; the training grids are saved with the generator.
     */
    exemplars: z.boolean().default(false),
    /** Share of training examples given no exemplar (so the generator also works without one). */
    exemplarDropout: z.number().min(0).max(1).default(0.1),
    seed: z.number().int().default(0),
  })
  .strict();
/** Architecture of a `CaptionTokenGenerator` (`GeneratorConfigSchema`), defaults filled in. */
export type GeneratorConfig = z.infer<typeof GeneratorConfigSchema>;
/** Architecture of a `CaptionTokenGenerator` as written (`GeneratorConfigSchema`'s input). */
export type GeneratorConfigInput = z.input<typeof GeneratorConfigSchema>;

/** Sampling settings of {@link CaptionTokenGenerator.generateTokens}. */
export const SamplingOptionsSchema = z
  .object({
    /** Parallel decoding steps (MaskGIT); at most the number of sequence positions. */
    steps: z.number().int().positive().default(8),
    /** Softmax temperature of the token draws; 0 = argmax. */
    temperature: z.number().nonnegative().default(1),
    /** Classifier-free guidance: logits = uncond + s·(cond − uncond); 1 = no guidance. */
    guidanceScale: z.number().nonnegative().default(2),
    /** Temperature of the Gumbel noise added to confidences when choosing which positions to keep (annealed to 0). */
    choiceTemperature: z.number().nonnegative().default(1),
    /**
     * Undoes the bias a `frequencyWeighting` α puts into the learned distributions (the weighted loss learns
     * p(k)·w(k)): logits − β·log w(k). 1 = full correction (the unweighted distribution), 0 = none. Ignored when the
     * generator was trained without frequency weighting.
     */
    priorCorrection: z.number().min(0).max(1).default(1),
    seed: z.number().int().default(0),
    /** Captions per forward pass. */
    batchSize: z.number().int().positive().default(256),
  })
  .strict();
/** Sampling settings of `CaptionTokenGenerator.generateTokens` (`SamplingOptionsSchema`), defaults filled in. */
export type SamplingOptions = z.infer<typeof SamplingOptionsSchema>;
/** Sampling settings as written (`SamplingOptionsSchema`'s input). */
export type SamplingOptionsInput = z.input<typeof SamplingOptionsSchema>;

/** Keys of {@link SamplingOptionsInput}. */
export const SAMPLING_KEYS = schemaKeys(SamplingOptionsSchema);

/**
 * Parses options with a schema, turning zod issues into a {@link ConfigurationError} that names the setting; an
 * unknown key names `where` (the function called) and the nearest valid key.
 */
export function parseConfig<S extends z.ZodType>(schema: S, value: unknown, what: string, where: string): z.infer<S> {
  const result = schema.safeParse(value ?? {});
  if (!result.success) {
    const unknown = unknownKeysError(schema, result.error, where);
    if (unknown) throw unknown;
    const issue = result.error.issues[0];
    const setting = issue.path.join('.') || undefined;
    throw new ConfigurationError(
      `Invalid ${what}${setting ? ` setting "${setting}"` : ''}: ${issue.message}. Check the ${what} you passed.`,
      { setting, cause: result.error },
    );
  }
  return result.data;
}
