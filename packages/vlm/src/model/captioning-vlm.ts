import { ConfigurationError, InvalidInputError, type Vocabulary } from '@synth2/core';
import { initBackend, tf, loadCheckpoint, readCheckpointConfig, saveCheckpoint, checkpointName, type CheckpointLocation } from '@synth2/nn';
import { z } from 'zod';
import { rejectUnknownOptions, schemaKeys } from '@synth2/core/internal';
import { VlmArchitectureSchema, inputPositions, parseVlmArchitecture, type VlmArchitecture, type VlmArchitectureInput } from '../config/vlm-config';
import { DECODE_KEYS, resolveDecodeOptions, searchCaptions, type DecodeOptions } from '../decoding/caption-search';
import { toEmbeddingTable, type EmbeddingTable, type EmbeddingsInput } from '../data/embedding-table';
import { regroupEmbeddings } from '../data/regroup';
import { collateBatch } from '../data/caption-batches';
import { BANNED_IDS, SPECIAL_IDS, encodeWords, toVocabulary, type VocabularyInput } from './caption-vocabulary';
import { VlmNetwork } from './vlm-network';

/** Everything needed to build a VLM: its sizes and its caption vocabulary. */
export interface CaptioningVLMConfig extends VlmArchitectureInput {
  /** The caption vocabulary: core's `Vocabulary` (`Vocabulary.build(captions)`) or its JSON. */
  vocabulary: VocabularyInput;
}

/** What a tokenizer must offer for {@link CaptioningVLM.captionImages}: images → VQ ids → codebook embeddings. */
export interface ImageEmbedder<Images = unknown, Ids = unknown> {
  encode(images: Images): Ids | Promise<Ids>;
  embed(ids: Ids): EmbeddingsInput | Promise<EmbeddingsInput>;
}

const CHECKPOINT_FORMAT = 'synth2-vlm';

/** Keys of the options of {@link CaptioningVLM.caption} and {@link CaptioningVLM.captionImages}. */
const CAPTION_KEYS = [...DECODE_KEYS, 'batchSize'];

const CheckpointConfigSchema = z.object({
  format: z.literal(CHECKPOINT_FORMAT),
  version: z.literal(1),
  architecture: z.record(z.string(), z.unknown()),
  vocabulary: z.unknown(),
});

/**
 * A captioning VLM over image embeddings: input projection + 2-D positions → Perceiver resampler (L learned
 * latents) → decoder-only caption LM with gated cross-attention to the latents. Decodes with greedy or beam
 * search, batched; saves and loads through core's checkpoints.
 */
export class CaptioningVLM {
  readonly architecture: VlmArchitecture;
  readonly vocabulary: Vocabulary;
  /** The parameter tree (what the trainer optimises). */
  readonly network: VlmNetwork;

  private constructor(architecture: VlmArchitecture, vocabulary: Vocabulary) {
    this.architecture = architecture;
    this.vocabulary = vocabulary;
    this.network = new VlmNetwork(architecture, vocabulary.size);
  }

  /** Builds a freshly initialised model (seeded by `config.seed`). Bad settings throw `ConfigurationError`. */
  static create(config: CaptioningVLMConfig): CaptioningVLM {
    if (config == null || typeof config !== 'object') {
      throw new ConfigurationError('CaptioningVLM.create needs a config object with embeddingDim, grid and vocabulary.');
    }
    rejectUnknownOptions(config, [...schemaKeys(VlmArchitectureSchema), 'vocabulary'], 'CaptioningVLM.create');
    const { vocabulary, ...architecture } = config;
    if (vocabulary === undefined) {
      throw new ConfigurationError(
        'CaptioningVLM.create: config.vocabulary is missing. Build one from all training captions with Vocabulary.build(captions) from @synth2/core.',
        { setting: 'vocabulary' },
      );
    }
    const parsed = parseVlmArchitecture(architecture, 'CaptioningVLM.create');
    const vocab = toVocabulary(vocabulary);
    requireBackend();
    return new CaptioningVLM(parsed, vocab);
  }

  /** Loads a model saved with {@link CaptioningVLM.save} (or a best checkpoint written by `trainVLM`). */
  static async load(dir: CheckpointLocation): Promise<CaptioningVLM> {
    if (!hasBackend()) await initBackend({ log: () => undefined });
    const raw = await readCheckpointConfig(dir);
    const parsed = CheckpointConfigSchema.safeParse(raw);
    if (!parsed.success) {
      throw new InvalidInputError(
        `${checkpointName(dir)}/config.json is not a Synth² VLM checkpoint (expected format "${CHECKPOINT_FORMAT}", version 1). Point to a directory written by CaptioningVLM.save or trainVLM.`,
        { file: `${checkpointName(dir)}/config.json`, cause: parsed.error },
      );
    }
    const model = CaptioningVLM.create({
      ...(parsed.data.architecture as unknown as VlmArchitectureInput),
      vocabulary: parsed.data.vocabulary as VocabularyInput,
    });
    try {
      await loadCheckpoint(dir, model.network);
    } catch (error) {
      model.dispose();
      throw error;
    }
    return model;
  }

  /** Checkpoint config: the architecture and the vocabulary, enough to rebuild the model. */
  checkpointConfig(): Record<string, unknown> {
    return {
      format: CHECKPOINT_FORMAT,
      version: 1,
      architecture: this.architecture,
      vocabulary: this.vocabulary.toJSON(),
    };
  }

  /** Writes `dir/model.safetensors` + `dir/config.json` atomically. */
  async save(dir: string): Promise<void> {
    await saveCheckpoint(dir, this.network, this.checkpointConfig());
  }

  /** Input positions N and width d the model reads. */
  get inputShape(): { positions: number; dim: number } {
    return { positions: inputPositions(this.architecture), dim: this.architecture.embeddingDim };
  }

  numParameters(): number {
    return this.network.numParameters();
  }

  /** Checks and converts embeddings `[B, N, d]`, then regroups them into the model's tokens `[B, N', g²d]`. */
  prepareEmbeddings(embeddings: EmbeddingsInput, what = 'embeddings'): EmbeddingTable {
    const table = toEmbeddingTable(embeddings, this.inputShape, what);
    return this.regroup(table);
  }

  /** Regroups an already checked table (no copy when group is 1). */
  regroup(table: EmbeddingTable): EmbeddingTable {
    const a = this.architecture;
    return {
      data: regroupEmbeddings(table.data, table.count, a.grid, a.embeddingDim, a.group),
      count: table.count,
      positions: this.network.tokenCount,
      dim: this.network.tokenWidth,
    };
  }

  /**
   * Captions image embeddings `[B, N, d]` with greedy (default) or beam search. Returns one caption per image.
   * `batchSize` images are decoded together (default 128).
   */
  async caption(embeddings: EmbeddingsInput, options: DecodeOptions & { batchSize?: number } = {}): Promise<string[]> {
    rejectUnknownOptions(options, CAPTION_KEYS, 'CaptioningVLM.caption');
    const tokens = this.prepareEmbeddings(embeddings);
    const decode = resolveDecodeOptions(options, { maxCaptionLength: this.architecture.maxCaptionLength });
    const batchSize = options.batchSize ?? 128;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new InvalidInputError(`batchSize must be a positive integer, got ${batchSize}.`, { field: 'batchSize' });
    }
    const out: string[] = [];
    for (let start = 0; start < tokens.count; start += batchSize) {
      const count = Math.min(batchSize, tokens.count - start);
      const size = tokens.positions * tokens.dim;
      const chunk = tokens.data.subarray(start * size, (start + count) * size);
      const ids = this.decodeTokens(chunk, count, decode);
      for (const seq of ids) out.push(this.vocabulary.decode(seq));
    }
    return out;
  }

  /**
   * Log-likelihood of each caption given its image: the sum of `log p(word | image, earlier words)` over the
   * caption's words (at most `maxCaptionLength`) and the end token, under teacher forcing. One caption per image,
   * same order. Use it to rank or filter image–caption pairs, e.g. to keep, of several generated embeddings for a
   * caption, the one the model finds most consistent with it. Words outside the vocabulary read as the unknown token
   * (which the model never predicts, so they lower every candidate of that caption alike).
   */
  async score(embeddings: EmbeddingsInput, captions: readonly string[], options: { batchSize?: number } = {}): Promise<Float32Array> {
    rejectUnknownOptions(options, ['batchSize'], 'CaptioningVLM.score');
    const perWord = await this.wordLogProbs(embeddings, captions, options);
    return Float32Array.from(perWord, (lp) => lp.reduce((a, b) => a + b, 0));
  }

  /**
   * The terms of {@link score} one by one: for each caption, `log p(word | image, earlier words)` of each of its words
   * as `tokenizeCaption` splits them (at most `maxCaptionLength`), then of the end token. Lets a caller weigh the
   * words that matter (an object's name) above the rest.
   */
  async wordLogProbs(embeddings: EmbeddingsInput, captions: readonly string[], options: { batchSize?: number } = {}): Promise<Float32Array[]> {
    rejectUnknownOptions(options, ['batchSize'], 'CaptioningVLM.wordLogProbs');
    const tokens = this.prepareEmbeddings(embeddings);
    if (!Array.isArray(captions) || captions.length !== tokens.count) {
      throw new InvalidInputError(
        `scoring needs one caption per image: got ${Array.isArray(captions) ? captions.length : 'no'} captions for ${tokens.count} images.`,
        { field: 'captions' },
      );
    }
    const batchSize = options.batchSize ?? 256;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new InvalidInputError(`batchSize must be a positive integer, got ${batchSize}.`, { field: 'batchSize' });
    }
    const maxLen = this.architecture.maxCaptionLength;
    const words = captions.map((text, i) => {
      const ids = typeof text === 'string' ? encodeWords(this.vocabulary, text).ids : [];
      if (ids.length === 0) throw new InvalidInputError(`captions[${i}] (${JSON.stringify(text)}) has no words to score.`, { field: 'captions' });
      return Int32Array.from(ids.slice(0, maxLen));
    });
    const out: Float32Array[] = [];
    const V = this.vocabulary.size;
    const shape = { positions: tokens.positions, dim: tokens.dim };
    for (let start = 0; start < tokens.count; start += batchSize) {
      const rows = Math.min(batchSize, tokens.count - start);
      const images = Array.from({ length: rows }, (_, i) => ({ tokens, index: start + i }));
      const batch = collateBatch(images, words.slice(start, start + rows), 0, shape, SPECIAL_IDS);
      const T = batch.length;
      const picked = tf.tidy(() => {
        const image = tf.tensor3d(batch.tokens, [rows, batch.tokenCount, batch.tokenWidth]);
        const logits = this.network.decoder.apply(tf.tensor2d(batch.input, [rows, T], 'int32'), this.network.encode(image));
        const logp = tf.logSoftmax(tf.reshape(logits, [rows * T, V]));
        return tf.sum(tf.mul(logp, tf.oneHot(tf.tensor1d(batch.target, 'int32'), V)), 1);
      });
      const lp = picked.dataSync() as Float32Array;
      picked.dispose();
      for (let r = 0; r < rows; r++) out.push(lp.slice(r * T, r * T + words[start + r].length + 1));
    }
    return out;
  }

  /** Encodes images with a tokenizer (`encode` → ids, `embed` → codebook embeddings) and captions them. */
  async captionImages<Images, Ids>(
    images: Images,
    tokenizer: ImageEmbedder<Images, Ids>,
    options: DecodeOptions & { batchSize?: number } = {},
  ): Promise<string[]> {
    rejectUnknownOptions(options, CAPTION_KEYS, 'CaptioningVLM.captionImages');
    if (!tokenizer || typeof tokenizer.encode !== 'function' || typeof tokenizer.embed !== 'function') {
      throw new InvalidInputError('captionImages needs a tokenizer with encode(images) and embed(ids) (the generator\'s VQ tokenizer).', {
        field: 'tokenizer',
      });
    }
    const ids = await tokenizer.encode(images);
    const embeddings = await tokenizer.embed(ids);
    try {
      return await this.caption(embeddings, options);
    } finally {
      for (const t of [ids, embeddings]) {
        if (t instanceof tf.Tensor && !t.isDisposed) t.dispose();
      }
    }
  }

  /** Decodes regrouped tokens (`count` items) to word ids. */
  private decodeTokens(data: Float32Array, count: number, decode: Required<DecodeOptions>): number[][] {
    const v = this.vocabulary;
    const latents = tf.tidy(() =>
      this.network.encode(tf.tensor3d(data, [count, this.network.tokenCount, this.network.tokenWidth])),
    );
    try {
      const result = searchCaptions({
        count,
        vocabSize: v.size,
        bos: SPECIAL_IDS.bos,
        eos: SPECIAL_IDS.eos,
        banned: BANNED_IDS,
        maxLength: decode.maxLength,
        strategy: decode.strategy,
        beamSize: decode.beamSize,
        lengthPenalty: decode.lengthPenalty,
        score: (images, prefixes) => {
          const logProbs = tf.tidy(() => {
            const rows = images.length;
            const t = prefixes[0].length;
            const flat = new Int32Array(rows * t);
            prefixes.forEach((p, r) => flat.set(p, r * t));
            const sameOrder = rows === count && images.every((img, r) => img === r);
            const ctx = sameOrder ? latents : tf.gather(latents, tf.tensor1d(Int32Array.from(images), 'int32'));
            const logits = this.network.decoder.apply(tf.tensor2d(flat, [rows, t], 'int32'), ctx as tf.Tensor3D);
            const last = tf.reshape(tf.slice(logits, [0, t - 1, 0], [rows, 1, v.size]), [rows, v.size]);
            return tf.logSoftmax(last);
          });
          const values = new Float32Array(logProbs.dataSync());
          logProbs.dispose();
          return values;
        },
      });
      return result.tokens;
    } finally {
      latents.dispose();
    }
  }

  /** Frees the model's tensors. */
  dispose(): void {
    this.network.dispose();
  }
}

function hasBackend(): boolean {
  try {
    return Boolean(tf.getBackend());
  } catch {
    return false;
  }
}

function requireBackend(): void {
  if (!hasBackend()) {
    throw new ConfigurationError(
      'no tfjs backend is ready: call `await initBackend()` from @synth2/nn before creating a model (it picks wasm or cpu and registers the fast kernels).',
    );
  }
}
