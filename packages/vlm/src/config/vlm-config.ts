import { z } from 'zod';
import { ConfigurationError } from '@synth2/core';
import { unknownKeysError } from '@synth2/core/internal';

const posInt = z.number().int().positive();

/**
 * Sizes of a captioning VLM (everything except the vocabulary). Strict: unknown keys are errors.
 *
 * Input: image embeddings `[N, embeddingDim]` laid out on a `grid` (`N = height × width`), optionally regrouped
 * `group × group` into `N / group²` tokens of width `group² · embeddingDim` (lossless, cheaper attention).
 */
export const VlmArchitectureSchema = z
  .object({
    /** Width d of each input embedding (the VQ codebook dimension). */
    embeddingDim: posInt,
    /** Layout of the N input positions: `[height, width]`. */
    grid: z.tuple([posInt, posInt]),
    /** Regroup `group × group` neighbouring positions into one token (1 = off). Must divide both grid sides. */
    group: posInt.default(1),
    /** Model width. */
    dim: posInt.default(64),
    /** Attention heads (must divide `dim`). */
    heads: posInt.default(4),
    /** MLP hidden size as a multiple of `dim`. */
    mlpRatio: posInt.default(4),
    encoder: z
      .object({
        /**
         * Self-attention blocks over the image tokens before the resampler (0 = none). The resampler alone mixes
         * image tokens only through attention-weighted sums; an encoder lets neighbouring tokens combine (an
         * object's shape is spread over several VQ tokens).
         */
        layers: z.number().int().min(0).default(0),
      })
      .strict()
      .prefault({}),
    resampler: z
      .object({
        /** L learned latents the image is resampled into. */
        latents: posInt.default(16),
        /**
         * Cross-attention layers (each: latent self-attention, cross-attention to the image, MLP). 0 = no resampler:
         * the decoder attends to the (encoded) image tokens themselves, and `latents` is ignored.
         */
        layers: z.number().int().min(0).default(1),
      })
      .strict()
      .prefault({}),
    decoder: z
      .object({
        /** Decoder blocks (causal self-attention, gated cross-attention to the latents, MLP). */
        layers: posInt.default(2),
        /**
         * Initial value of each cross-attention gate (the branch is scaled by `tanh(gate)`). Flamingo starts at 0 to
         * keep a pretrained LM intact; trained from scratch, an open gate lets the image in from the first step.
         */
        gateInit: z.number().min(-5).max(5).default(0),
      })
      .strict()
      .prefault({}),
    /** Most words in a caption (longer training captions are truncated). */
    maxCaptionLength: posInt.default(16),
    /** Dropout rate during training. */
    dropout: z.number().min(0).max(0.9).default(0),
    /** Seed of the parameter initialisation. */
    seed: z.number().int().default(0),
  })
  .strict();

/** Architecture of a `CaptioningVLM` (`VlmArchitectureSchema`), defaults filled in. */
export type VlmArchitecture = z.infer<typeof VlmArchitectureSchema>;
/** Architecture of a `CaptioningVLM` as written (`VlmArchitectureSchema`'s input). */
export type VlmArchitectureInput = z.input<typeof VlmArchitectureSchema>;

/**
 * Parses and cross-checks architecture settings; errors name the setting and what to change. An unknown key names
 * `where` (the function called) and the nearest valid key.
 */
export function parseVlmArchitecture(input: unknown, where = 'parseVlmArchitecture'): VlmArchitecture {
  const parsed = VlmArchitectureSchema.safeParse(input);
  if (!parsed.success) {
    const unknown = unknownKeysError(VlmArchitectureSchema, parsed.error, where);
    if (unknown) throw unknown;
    const issue = parsed.error.issues[0];
    const path = issue.path.join('.');
    throw new ConfigurationError(
      `Invalid VLM config${path ? ` at "${path}"` : ''}: ${issue.message}. Fix that setting (see VlmArchitectureSchema).`,
      { setting: path || undefined, cause: parsed.error },
    );
  }
  const c = parsed.data;
  if (c.dim % c.heads !== 0) {
    throw new ConfigurationError(`Invalid VLM config: dim ${c.dim} is not divisible by heads ${c.heads}. Pick heads dividing dim.`, {
      setting: 'heads',
    });
  }
  if (c.grid[0] % c.group !== 0 || c.grid[1] % c.group !== 0) {
    throw new ConfigurationError(
      `Invalid VLM config: group ${c.group} does not divide the grid ${c.grid[0]}×${c.grid[1]}. Use a group that divides both sides, or 1.`,
      { setting: 'group' },
    );
  }
  return c;
}

/** Number of input positions N of an architecture. */
export function inputPositions(c: Pick<VlmArchitecture, 'grid'>): number {
  return c.grid[0] * c.grid[1];
}

/**
 * Settings for the shapes-world demo: 16×16 × 32 VQ embeddings regrouped 4×4 into 16 tokens, no encoder and no
 * resampler (the decoder attends to the 16 image tokens directly), cross-attention gates open from the start
 * (`gateInit` 1), 1,500 steps of batch 64 at lr 4e-3, half human and half synthetic pairs in every step. How they
 * were chosen: docs/experiments/vlm-history.md.
 */
export const demoVlmConfig = {
  architecture: {
    embeddingDim: 32,
    grid: [16, 16] as [number, number],
    group: 4,
    dim: 64,
    heads: 4,
    mlpRatio: 4,
    resampler: { layers: 0 },
    decoder: { layers: 2, gateInit: 1 },
    maxCaptionLength: 16,
    dropout: 0,
    seed: 0,
  } satisfies VlmArchitectureInput,
  training: {
    steps: 1500,
    batchSize: 64,
    /** Half human, half synthetic pairs in every step (`syntheticSteps` would limit them to the first steps). */
    mix: { real: 0.5, synthetic: 0.5 },
    lr: 4e-3,
    warmupSteps: 100,
    evalEvery: 500,
  },
  decoding: { strategy: 'greedy' as const, maxLength: 16 },
};
