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

/**
 * Best-of-N sampling: N candidates per caption, the one the scorer rates best is kept. Candidate `c` of a caption
 * draws from the caption's own generator (`Rng(seed).fork(index)`, forked again by `c` for c ≥ 1), so re-ranked
 * results do not depend on how captions are batched either.
 */
export interface RerankOptions {
  scorer: CandidateScorer;
  /** Candidates per caption (≥ 1). Candidate 0 is what sampling without re-ranking returns for the same seed. */
  candidates: number;
  /**
   * The scorer's scores of the first and of the kept candidate of every caption (for reporting the gain); called once
   * per generated batch.
   */
  onScores?: (first: Float32Array, kept: Float32Array) => void;
}

/** Keys of {@link GenerateOptions}. */
const GENERATE_KEYS = [...SAMPLING_KEYS, 'generator', 'tokenizer', 'captions', 'abortSignal', 'exemplarKeys'];
/** Keys of {@link RerankOptions}. */
export const RERANK_KEYS = optionKeys<RerankOptions>({ scorer: true, candidates: true, onScores: true });

/** Refuses a generator and tokenizer that were not trained together (grid or codebook differ). */
export function checkPair(generator: CaptionTokenGenerator, tokenizer: VQTokenizer): void {
  const g = generator.config;
  if (g.gridHeight !== tokenizer.gridSize || g.gridWidth !== tokenizer.gridSize || g.codebookSize !== tokenizer.config.codebookSize) {
    throw new InvalidInputError(
      `the generator makes ${g.gridHeight}×${g.gridWidth} grids of ${g.codebookSize} codes but the tokenizer has ` +
        `${tokenizer.gridSize}×${tokenizer.gridSize} grids of ${tokenizer.config.codebookSize} codes; pass the tokenizer the generator was trained with`,
    );
  }
}

/** Refuses re-ranking settings that cannot work (before any sampling). */
export function checkRerank(rerank: RerankOptions | undefined, where: string): void {
  if (!rerank) return;
  rejectUnknownOptions(rerank, RERANK_KEYS, where, 'rerank');
  const { scorer, candidates } = rerank;
  if (!Number.isInteger(candidates) || candidates < 1) throw new InvalidInputError(`rerank.candidates must be a whole number ≥ 1, got ${candidates}`);
  if (!scorer || typeof scorer.score !== 'function') throw new InvalidInputError('rerank.scorer must have a score(embeddings, captions) method');
}

/** What {@link sampleEmbeddings} needs: the models, the captions (at `firstIndex` in the run) and the settings. */
export interface SampleEmbeddingsOptions extends SamplingOptionsInput {
  generator: CaptionTokenGenerator;
  tokenizer: VQTokenizer;
  captions: readonly string[];
  exemplarKeys?: readonly (readonly string[])[];
  /** Index of `captions[0]` in the whole run: caption `k` draws from `Rng(seed).fork(firstIndex + k)`. */
  firstIndex?: number;
  rerank?: RerankOptions;
  abortSignal?: AbortSignal;
}

/**
 * Samples the token grids `[B, h, w]` and their codebook embeddings `[B, h·w, d]` for captions; with `rerank`, the
 * best-rated candidate of each caption. The one sampling path of `generateEmbeddings` and `writeEmbeddingShards`.
 */
export async function sampleEmbeddings(options: SampleEmbeddingsOptions): Promise<{ tokens: tf.Tensor3D; embeddings: tf.Tensor3D }> {
  const { generator, tokenizer, captions, rerank, ...tokenOptions } = options;
  const candidate = async (c: number) => {
    const tokens = await generator.generateTokens(captions, { ...tokenOptions, candidate: c });
    return { tokens, embeddings: tokenizer.embed(tokens) };
  };
  if (!rerank) return candidate(0);
  const first = await scoredCandidate(await candidate(0), rerank.scorer, captions);
  const kept = { tokens: first.tokens, embeddings: first.embeddings, scores: first.scores.slice() };
  const perTokens = first.tokens.length / captions.length;
  const perEmbedding = first.embeddings.length / captions.length;
  for (let c = 1; c < rerank.candidates; c++) {
    const next = await scoredCandidate(await candidate(c), rerank.scorer, captions);
    next.scores.forEach((s, b) => {
      if (s <= kept.scores[b]) return;
      kept.scores[b] = s;
      kept.tokens.set(next.tokens.subarray(b * perTokens, (b + 1) * perTokens), b * perTokens);
      kept.embeddings.set(next.embeddings.subarray(b * perEmbedding, (b + 1) * perEmbedding), b * perEmbedding);
    });
  }
  rerank.onScores?.(first.scores, kept.scores);
  const [n, h, w] = first.shape.tokens;
  const [, hw, d] = first.shape.embeddings;
  return { tokens: tf.tensor3d(kept.tokens, [n, h, w], 'int32'), embeddings: tf.tensor3d(kept.embeddings, [n, hw, d]) };
}

/** Scores one candidate per caption and reads its tensors back (they are disposed). */
async function scoredCandidate(candidate: { tokens: tf.Tensor3D; embeddings: tf.Tensor3D }, scorer: CandidateScorer, captions: readonly string[]) {
  const { tokens, embeddings } = candidate;
  try {
    const scores = await scorer.score(embeddings, captions);
    if (scores.length !== captions.length) {
      throw new InvalidInputError(`the re-ranking scorer returned ${scores.length} scores for ${captions.length} captions; it must return one per caption`);
    }
    return {
      scores: Float32Array.from(scores),
      tokens: (await tokens.data()) as Int32Array,
      embeddings: (await embeddings.data()) as Float32Array,
      shape: { tokens: tokens.shape, embeddings: embeddings.shape },
    };
  } finally {
    tf.dispose([tokens, embeddings]);
  }
}

/**
 * Embedding-space synthesis (the Synth² path): caption → token grid → codebook rows, no pixels.
 * Returns `[B, h·w, d]`; caption `i` draws from `Rng(seed).fork(i)` (see {@link RerankOptions} for candidates).
 */
export async function generateEmbeddings(options: GenerateOptions & { rerank?: RerankOptions }): Promise<tf.Tensor3D> {
  rejectUnknownOptions(options, [...GENERATE_KEYS, 'rerank'], 'generateEmbeddings');
  checkRerank(options.rerank, 'generateEmbeddings');
  checkPair(options.generator, options.tokenizer);
  const { tokens, embeddings } = await sampleEmbeddings(options);
  tokens.dispose();
  return embeddings;
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
