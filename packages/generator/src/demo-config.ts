import type { GeneratorConfigInput, SamplingOptionsInput, TokenizerConfigInput } from './config';

/**
 * Tokenizer settings validated on the shapes-world demo (32×32 → 16×16 tokens: one downsampling stage). With two
 * stages (8×8 tokens) a probe reads an object's shape from the embeddings of 76% of real single-object images, with one
 * 98%; the human-only VLM's test CIDEr-D rose from 1.44 / 1.25 to 1.73 / 1.79 and Synth²'s held-out pair recall from
 * 0.30 / 0.28 to 0.38 / 0.40 (seeds 1 / 2; generator/bench-results/token-grid-16-experiment.json).
 */
export const demoTokenizerConfig: TokenizerConfigInput = {
  imageSize: 32,
  channels: 3,
  hidden: [32],
  resBlocks: 1,
  codebookSize: 128,
  codeDim: 32,
  commitment: 0.25,
};

/** Tokenizer training at the demo's budget. */
export const demoTokenizerTraining = { steps: 800, batchSize: 32, lr: 3e-3, restartEvery: 50 } as const;

/** Generator settings validated on the shapes-world demo (without `vocabulary`: built from the training captions). */
export const demoGeneratorConfig: Omit<GeneratorConfigInput, 'vocabulary'> = {
  maxCaptionLength: 16,
  gridHeight: 16,
  gridWidth: 16,
  codebookSize: 128,
  // 4×4 tokens per position: the same 16 positions as the 8×8 grid grouped 2×2 (attention costs the same; the token
  // lookups and the 16 sub-token outputs per position make a step ≈ 0.27 s instead of 0.24 s on portable wasm)
  group: 4,
  dim: 64,
  heads: 4,
  layers: 3,
  captionLayers: 1,
  mlpRatio: 4,
  captionDropout: 0.1,
  labelSmoothing: 0,
  frequencyWeighting: 1,
  // Word and token embeddings at std 1, tokens read and predicted through the tokenizer's code vectors, and a 3×3
  // convolution over the position grid before every block: together with lr 4e-3 the probe finds both the caption's
  // colour and shape in 0.27 / 0.20 of generated single-object embeddings at 1,500 steps and 0.35 / 0.30 at 3,000
  // (seen / held-out pairs) instead of 0.08 / 0.06 on 8×8 tokens (bench-results/conv-generator-experiment.json); on
  // 16×16 tokens 0.29 / 0.21 at 1,500 steps (bench-results/generator.json)
  embeddingInitStd: 1,
  codebookDim: 32,
  convKernel: 3,
};

/**
 * Generator training at the demo's budget. With 16×16 tokens a step costs ≈ 0.27 s on the portable wasm path (the
 * 16 sub-token logits per position are scored for masked positions only), so 1,500 steps keep the whole demo within
 * 15 minutes on 2 cores.
 */
export const demoGeneratorTraining = { steps: 1500, batchSize: 64, lr: 4e-3 } as const;

/** Sampling settings for the demo. */
export const demoSampling: SamplingOptionsInput = { steps: 8, temperature: 1, guidanceScale: 3, priorCorrection: 1, batchSize: 256 };
