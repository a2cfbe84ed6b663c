import type { GeneratorConfigInput, SamplingOptionsInput, TokenizerConfigInput } from './config';

/**
 * Tokenizer settings of the shapes-world demo: 32×32 images → 16×16 token grids (one downsampling stage), 128 codes
 * of width 32. How they were chosen: docs/experiments/generator-history.md.
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
  // 4×4 tokens per position: the 16×16 grid becomes 16 sequence positions
  group: 4,
  dim: 64,
  heads: 4,
  layers: 3,
  captionLayers: 1,
  mlpRatio: 4,
  captionDropout: 0.1,
  labelSmoothing: 0,
  frequencyWeighting: 1,
  // word and token embeddings at std 1, tokens read and predicted through the tokenizer's code vectors, and a 3×3
  // convolution over the position grid before every block
  embeddingInitStd: 1,
  codebookDim: 32,
  convKernel: 3,
};

/** Generator training at the demo's budget (chosen in docs/experiments/native-engine.md). */
export const demoGeneratorTraining = { steps: 4000, batchSize: 64, lr: 4e-3 } as const;

/** Sampling settings for the demo. */
export const demoSampling: SamplingOptionsInput = { steps: 8, temperature: 1, guidanceScale: 3, priorCorrection: 1, batchSize: 256 };
