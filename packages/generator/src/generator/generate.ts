import { InvalidInputError } from '@synth2/core';
import { optionKeys, rejectUnknownOptions } from '@synth2/core/internal';
import { tf } from '@synth2/nn';
import { SAMPLING_KEYS, type SamplingOptionsInput } from '../config';
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

/**
 * Rates how well embeddings `[B, h·w, d]` show their captions (one each): higher is better. Only compared between
 * candidates of the same caption. A captioning VLM trained on human pairs is one: `@synth2/vlm`'s
 * `CaptioningVLM.score` (the caption's log-likelihood) has this shape.
 */
export interface CandidateScorer {
  score(embeddings: tf.Tensor3D, captions: readonly string[]): Float32Array | Promise<Float32Array>;
}

/** Best-of-N sampling: N candidates per caption, the one the scorer rates best is kept. */
export interface RerankOptions {
  scorer: CandidateScorer;
  /** Candidates per caption (≥ 1). Candidate 0 is what sampling without re-ranking returns for the same seed. */
  candidates: number;
  /** The scorer's scores of the first and of the kept candidate of every caption (for reporting the gain). */
  onScores?: (first: Float32Array, kept: Float32Array) => void;
}

/** Keys of {@link GenerateOptions}. */
const GENERATE_KEYS = [...SAMPLING_KEYS, 'generator', 'tokenizer', 'captions', 'abortSignal', 'exemplarKeys'];
const RERANK_KEYS = optionKeys<RerankOptions>({ scorer: true, candidates: true, onScores: true });

/** Seed of candidate `c` (candidate 0 keeps the caller's seed). */
const candidateSeed = (seed: number | undefined, c: number): number => (seed ?? 0) + c * 1_000_003;

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
export async function generateEmbeddings(options: GenerateOptions & { rerank?: RerankOptions }): Promise<tf.Tensor3D> {
  rejectUnknownOptions(options, [...GENERATE_KEYS, 'rerank'], 'generateEmbeddings');
  rejectUnknownOptions(options.rerank, RERANK_KEYS, 'generateEmbeddings', 'rerank');
  const { generator, tokenizer, captions, abortSignal, rerank, ...sampling } = options;
  checkPair(generator, tokenizer);
  const once = async (seed: number | undefined) => {
    const ids = await generator.generateTokens(captions, { ...sampling, seed, abortSignal });
    try {
      return tokenizer.embed(ids);
    } finally {
      ids.dispose();
    }
  };
  if (!rerank) return once(sampling.seed);
  const { scorer, candidates } = rerank;
  if (!Number.isInteger(candidates) || candidates < 1) throw new InvalidInputError(`rerank.candidates must be a whole number ≥ 1, got ${candidates}`);
  /** One candidate per caption: its embeddings (read back) and scores. */
  const candidate = async (c: number) => {
    const emb = await once(candidateSeed(sampling.seed, c));
    try {
      const scores = await scorer.score(emb, captions);
      if (scores.length !== captions.length) {
        throw new InvalidInputError(`the re-ranking scorer returned ${scores.length} scores for ${captions.length} captions; it must return one per caption`);
      }
      return { values: (await emb.data()) as Float32Array, scores, shape: emb.shape };
    } finally {
      emb.dispose();
    }
  };
  const first = await candidate(0);
  const { values: kept, shape } = first;
  const keptScores = first.scores.slice();
  const per = shape[1] * shape[2];
  for (let c = 1; c < candidates; c++) {
    const { values, scores } = await candidate(c);
    scores.forEach((s, b) => {
      if (s > keptScores[b]) {
        keptScores[b] = s;
        kept.set(values.subarray(b * per, (b + 1) * per), b * per);
      }
    });
  }
  rerank.onScores?.(first.scores, keptScores);
  return tf.tensor3d(kept, shape);
}

/** Images `[B, S, S, C]` in [0, 1] for captions: sampled token grids decoded by the tokenizer. */
export async function generateImages(options: GenerateOptions): Promise<tf.Tensor4D> {
  rejectUnknownOptions(options, GENERATE_KEYS, 'generateImages');
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
  rejectUnknownOptions(options, GENERATE_KEYS, 'generateEmbeddingsViaPixels');
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
