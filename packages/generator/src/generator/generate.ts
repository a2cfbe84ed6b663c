import { InvalidInputError } from '@synth2/core';
import { tf } from '@synth2/core/tf';
import type { SamplingOptionsInput } from '../config';
import type { VQTokenizer } from '../tokenizer/vq-tokenizer';
import type { CaptionTokenGenerator } from './caption-token-generator';

/** What every generation helper needs: the two trained models, the captions and sampling settings. */
export interface GenerateOptions extends SamplingOptionsInput {
  generator: CaptionTokenGenerator;
  tokenizer: VQTokenizer;
  captions: readonly string[];
  abortSignal?: AbortSignal;
  /** Exemplar keys per caption, most specific first (generators with `exemplars`; see `TokenTrainingExample`). */
  exemplarKeys?: readonly (readonly string[])[];
}

function checkPair(generator: CaptionTokenGenerator, tokenizer: VQTokenizer): void {
  const g = generator.config;
  if (g.gridHeight !== tokenizer.gridSize || g.gridWidth !== tokenizer.gridSize || g.codebookSize !== tokenizer.config.codebookSize) {
    throw new InvalidInputError(
      `the generator makes ${g.gridHeight}×${g.gridWidth} grids of ${g.codebookSize} codes but the tokenizer has ` +
        `${tokenizer.gridSize}×${tokenizer.gridSize} grids of ${tokenizer.config.codebookSize} codes; pass the tokenizer the generator was trained with`,
    );
  }
}

/**
 * Embedding-space synthesis (the Synth² path): caption → token grid → codebook rows, no pixels.
 * Returns `[B, h·w, d]`.
 */
export async function generateEmbeddings(options: GenerateOptions): Promise<tf.Tensor3D> {
  const { generator, tokenizer, captions, abortSignal, ...sampling } = options;
  checkPair(generator, tokenizer);
  const ids = await generator.generateTokens(captions, { ...sampling, abortSignal });
  try {
    return tokenizer.embed(ids);
  } finally {
    ids.dispose();
  }
}

/** Images `[B, S, S, C]` in [0, 1] for captions: sampled token grids decoded by the tokenizer. */
export async function generateImages(options: GenerateOptions): Promise<tf.Tensor4D> {
  const { generator, tokenizer, captions, abortSignal, ...sampling } = options;
  checkPair(generator, tokenizer);
  const ids = await generator.generateTokens(captions, { ...sampling, abortSignal });
  try {
    return tokenizer.decode(ids);
  } finally {
    ids.dispose();
  }
}

/**
 * Pixel-space synthesis, the paper's comparison: caption → tokens → decoded image → re-encoded tokens → codebook
 * rows. Same output shape as {@link generateEmbeddings}; costs a decoder and an encoder pass more.
 */
export async function generateEmbeddingsViaPixels(options: GenerateOptions): Promise<tf.Tensor3D> {
  const { generator, tokenizer, captions, abortSignal, ...sampling } = options;
  checkPair(generator, tokenizer);
  const ids = await generator.generateTokens(captions, { ...sampling, abortSignal });
  const bs = sampling.batchSize ?? 256;
  const parts: tf.Tensor3D[] = [];
  try {
    for (let i = 0; i < ids.shape[0]; i += bs) {
      parts.push(
        tf.tidy(() => {
          const chunk = tf.slice(ids, [i, 0, 0], [Math.min(bs, ids.shape[0] - i), -1, -1]) as tf.Tensor3D;
          const images = tokenizer.decode(chunk);
          return tokenizer.embed(tokenizer.encode(images));
        }),
      );
    }
    return parts.length === 1 ? parts[0] : (tf.concat(parts, 0) as tf.Tensor3D);
  } finally {
    ids.dispose();
    if (parts.length > 1) parts.forEach((p) => p.dispose());
  }
}
