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

export type VlmArchitecture = z.infer<typeof VlmArchitectureSchema>;
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
 * Settings for the demo (shapes world, 16×16 × 32 VQ embeddings regrouped 4×4 into 16 tokens — 8×8 regrouped 2×2
 * before the 16×16 tokenizer, whose embeddings the VLM reads far better: human-only test CIDEr-D 1.44 / 1.25 → 1.57 /
 * 1.79, seeds 1 / 2, generator/bench-results/token-grid-16-experiment.json —, 2,000 images × 5
 * captions + ~6,000 synthetic pairs). Both VLMs of the demo must train in the 15-minute budget on 2 shared cores:
 * on a fresh clone (portable wasm) 1,500 steps take 133–143 s per model, the baseline beside the generator
 * (bench-results/vlm.json: 24–27 steps/s on a quiet machine with the native addon). Opening the cross-attention gates (gateInit 1) and lr 4e-3 gave the best
 * shapes-world CIDEr at equal steps (600 steps: 0.62 → 0.83 → 0.94; 1,500 steps: 0.97 → 1.32). 2,000 steps were
 * tried on the demo (fresh clone, two seeds): the human-only baseline then catches up on held-out compositions and
 * Synth² falls below it (held-out CIDEr 0.91× / 0.88×, all images 0.95× / 0.92×): at 1,500 steps Synth²'s held-out
 * gain is partly faster learning. The demo keeps 1,500 (cli/bench-results/vlm-steps-experiment.json).
 * Mixing synthetic pairs into the first steps only (`syntheticSteps`) changed Synth² by −0.05…+0.07 CIDEr on the
 * seed-1 run with the resampler VLM below, within run-to-run noise (cli/bench-results/curriculum-experiment.json).
 * With the stronger VLM (no resampler) it matters: mixed into all 1,500 steps, the synthetic pairs — whose shapes the
 * generator gets right only by chance — taught the VLM to ignore shape and Synth² fell to 0.82× / 0.94× of the
 * baseline's CIDEr (seeds 1 / 2); mixed into the first 750 steps only, 0.98× / 1.04× with the VLM's shape accuracy
 * kept (cli/bench-results/vlm-architecture-experiment.json). With the convolutional demo generator
 * (`convKernel`; shapes right about three times as often) the every-step mix is ahead again: 1.01× / 1.12× of
 * the baseline's CIDEr and held-out pair recall 0.07 (seeds 1 / 2, local runs; first half only: 1.01× on seed 1,
 * held-out 0.92× vs 1.01×), so the demo mixes synthetic pairs into every step
 * (generator/bench-results/conv-generator-experiment.json).
 *
 * No resampler (`resampler.layers` 0): the decoder attends to the 16 image tokens directly. With a 16-latent
 * resampler in between, the human-only VLM named the shape of a single object right in only 19–37% of seen test
 * images; without it, 42–58%, and its test CIDEr rose from 0.81–1.06 to 1.08–1.29 at ≈ 35% less time per step
 * (same runs, generator and data; cli/bench-results/vlm-architecture-experiment.json). An image encoder
 * (`encoder.layers` 1–2) learned too slowly for 1,500 steps (CIDEr 0.88 / 0.61).
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
