import { CheckpointMismatchError, InvalidInputError, Rng, throwIfAborted } from '@synth2/core';
import {
  crossEntropy,
  loadCheckpoint,
  readCheckpointConfig,
  saveCheckpoint,
  initBackend,
  tf,
  train,
  type TrainProgressEvent,
  type TrainResult,
  checkpointName,
  type CheckpointLocation,
} from '@synth2/nn';
import { optionKeys, rejectUnknownOptions, schemaKeys } from '@synth2/core/internal';
import {
  GeneratorConfigSchema,
  SAMPLING_KEYS,
  SamplingOptionsSchema,
  parseConfig,
  type GeneratorConfig,
  type GeneratorConfigInput,
  type SamplingOptionsInput,
} from '../config';
import { CaptionEncoder } from '../data/caption-encoder';
import { groupTokens, ungroupTokens } from '../data/token-grid';
import { decodingPlan } from '../maskgit/mask-schedule';
import { initialDecodingState, parallelDecodingStep } from '../maskgit/parallel-decoding';
import { maskBatch, type GeneratorBatch } from './masking';
import { EpochBatches } from '../data/epoch-batches';
import { TokenTransformer } from './token-transformer';
import type { VQTokenizer } from '../tokenizer/vq-tokenizer';
import { ExemplarCorpus } from './exemplars';

/** Tensors of one training batch (see {@link CaptionTokenGenerator.batchTensors}). */
export interface GeneratorTensors {
  size: number;
  words: tf.Tensor2D;
  wordMask: tf.Tensor2D;
  inputs: tf.Tensor3D;
  /** Target ids and loss weights of the masked positions' tokens `[M·G]`, in the order of `rows`. */
  targets: tf.Tensor1D;
  weights: tf.Tensor1D;
  /** The masked positions `[M]` as flat indices `b·P + p`: only they are scored (the others carry no loss). */
  rows: tf.Tensor1D;
  /** Exemplar grids (slot ids `[B, P, G]`) and a keep-mask `[B, P]` (all 0 for a row without one); `exemplars` only. */
  exemplar?: { slotIds: tf.Tensor3D; mask: tf.Tensor2D };
}

/** One training pair: a caption and the token grid (`h·w` ids, row-major) of its image. */
export interface TokenTrainingExample {
  caption: string;
  tokens: ArrayLike<number>;
  /**
   * Exemplar keys of the caption, most specific first (generators with `exemplars`): the example is given the grid
   * of another image with a caption of the same key. Examples of one image share `image` (default: each example is
   * its own image).
   */
  exemplarKeys?: readonly string[];
  image?: number;
}

/** Options of `CaptionTokenGenerator.train`. */
export interface GeneratorTrainOptions {
  steps: number;
  batchSize?: number;
  lr?: number;
  warmupSteps?: number;
  minLrRatio?: number;
  weightDecay?: number;
  seed?: number;
  checkpointDir?: string;
  checkpointEvery?: number;
  metricsFile?: string;
  onProgress?: (event: TrainProgressEvent) => void;
  abortSignal?: AbortSignal;
  log?: (msg: string) => void;
}

/** Keys of the config of {@link CaptionTokenGenerator.create}: the schema's and `captions`. */
const GENERATOR_CREATE_KEYS = [...schemaKeys(GeneratorConfigSchema), 'captions'];

const GENERATOR_TRAIN_KEYS = optionKeys<GeneratorTrainOptions>({
  steps: true,
  batchSize: true,
  lr: true,
  warmupSteps: true,
  minLrRatio: true,
  weightDecay: true,
  seed: true,
  checkpointDir: true,
  checkpointEvery: true,
  metricsFile: true,
  onProgress: true,
  abortSignal: true,
  log: true,
});

/** Keys of the options of {@link CaptionTokenGenerator.generateTokens}. */
const GENERATE_TOKENS_KEYS = [...SAMPLING_KEYS, 'abortSignal', 'firstIndex', 'exemplarKeys', 'candidate'];

/**
 * Caption → image-token generator (MUSE/MaskGIT style): trained to predict masked token positions from the rest
 * and the caption; samples a token grid for a caption in a few parallel decoding steps with classifier-free guidance.
 */
export class CaptionTokenGenerator {
  readonly config: GeneratorConfig;
  readonly captions: CaptionEncoder;
  readonly network: TokenTransformer;
  /** Per-code loss weights set from the training grids when `frequencyWeighting` > 0. */
  private codeWeights: Float32Array | undefined;
  /** The training grids exemplars are retrieved from (`exemplars`; set by `train`, saved with the generator). */
  exemplarCorpus: ExemplarCorpus | undefined;

  private constructor(config: GeneratorConfig, captions: CaptionEncoder) {
    this.config = config;
    this.captions = captions;
    this.network = new TokenTransformer(config, captions.size);
  }

  /**
   * A new, untrained generator. `config.vocabulary` is a caption vocabulary (see {@link CaptionEncoder.fromCaptions})
   * or, for convenience, pass `captions` to build one from the training captions.
   */
  static create(config: Omit<GeneratorConfigInput, 'vocabulary'> & { vocabulary?: unknown; captions?: readonly string[] }): CaptionTokenGenerator {
    rejectUnknownOptions(config, GENERATOR_CREATE_KEYS, 'CaptionTokenGenerator.create');
    const { captions, ...rest } = config;
    let vocab = rest.vocabulary;
    if (vocab === undefined) {
      if (!captions) {
        throw new InvalidInputError('a generator needs a caption vocabulary: pass config.vocabulary or config.captions (the training captions)');
      }
      vocab = CaptionEncoder.fromCaptions(captions).toJSON();
    }
    const parsed = parseConfig(GeneratorConfigSchema, { ...rest, vocabulary: vocab }, 'generator config', 'CaptionTokenGenerator.create');
    const encoder = CaptionEncoder.fromJSON(parsed.vocabulary, parsed.maxCaptionLength);
    if (parsed.gridHeight % parsed.group !== 0 || parsed.gridWidth % parsed.group !== 0) {
      throw new InvalidInputError(
        `group ${parsed.group} does not divide the ${parsed.gridHeight}×${parsed.gridWidth} token grid; choose a divisor (1, 2, 4…)`,
      );
    }
    return new CaptionTokenGenerator(parsed, encoder);
  }

  /**
   * A new generator for a tokenizer's token grids: grid size and codebook size come from the tokenizer, and with a
   * `codebookDim` > 0 in `config` it reads tokens through this tokenizer's code vectors (its `codeDim`, codebook set).
   */
  static forTokenizer(
    tokenizer: VQTokenizer,
    config: Omit<GeneratorConfigInput, 'vocabulary' | 'gridHeight' | 'gridWidth' | 'codebookSize'> & { vocabulary?: unknown; captions?: readonly string[] },
  ): CaptionTokenGenerator {
    // grid and codebook sizes are taken from the tokenizer; given ones are overridden
    rejectUnknownOptions(config, GENERATOR_CREATE_KEYS, 'CaptionTokenGenerator.forTokenizer');
    const generator = CaptionTokenGenerator.create({
      ...config,
      gridHeight: tokenizer.gridSize,
      gridWidth: tokenizer.gridSize,
      codebookSize: tokenizer.config.codebookSize,
      codebookDim: config.codebookDim ? tokenizer.config.codeDim : 0,
    });
    if (generator.config.codebookDim > 0) generator.setCodebook(tokenizer.codebook);
    return generator;
  }

  static async load(dir: CheckpointLocation): Promise<CaptionTokenGenerator> {
    const raw = (await readCheckpointConfig(dir)) as { kind?: string; generator?: unknown; exemplarCorpus?: unknown };
    if (raw?.kind !== 'synth2-token-generator') {
      throw new CheckpointMismatchError(
        `${checkpointName(dir)} is not a caption-token generator checkpoint (config kind ${JSON.stringify(raw?.kind)}); pass the folder written by CaptionTokenGenerator.save`,
      );
    }
    const model = CaptionTokenGenerator.create(raw.generator as GeneratorConfigInput);
    await loadCheckpoint(dir, model.network);
    if (raw.exemplarCorpus !== undefined) model.exemplarCorpus = ExemplarCorpus.fromJSON(raw.exemplarCorpus);
    return model;
  }

  async save(dir: string): Promise<void> {
    await saveCheckpoint(dir, this.network, {
      kind: 'synth2-token-generator',
      generator: this.config,
      ...(this.exemplarCorpus ? { exemplarCorpus: this.exemplarCorpus.toJSON() } : {}),
    });
  }

  /** Slot ids and keep-mask of the exemplars `picked[b]` (−1 = none) for a batch. */
  private exemplarTensors(picked: readonly number[], copies = 1): { slotIds: tf.Tensor3D; mask: tf.Tensor2D } {
    const { positions: P, perPosition: G, codebookSize: K } = this.dims();
    const B = picked.length;
    const ids = new Int32Array(copies * B * P * G).fill(K);
    const mask = new Float32Array(copies * B * P);
    const corpus = this.exemplarCorpus!;
    for (let c = 0; c < copies; c++)
      picked.forEach((img, b) => {
        if (img < 0) return;
        ids.set(corpus.grids.subarray(img * P * G, (img + 1) * P * G), (c * B + b) * P * G);
        mask.fill(1, (c * B + b) * P, (c * B + b + 1) * P);
      });
    return {
      slotIds: tf.tensor3d(this.network.slotIds(ids), [copies * B, P, G], 'int32'),
      mask: tf.tensor2d(mask, [copies * B, P], 'float32'),
    };
  }

  /**
   * Gives the generator the tokenizer's codebook `[K, codebookDim]` (needed when `codebookDim` > 0; saved with
   * the generator). Rows are standardised (mean 0, unit RMS), so only their directions and relative sizes matter.
   */
  setCodebook(codebook: tf.Tensor2D | tf.Variable): void {
    const { codebookSize: K, codebookDim: cd } = this.config;
    if (!this.network.codebook) {
      throw new InvalidInputError('this generator has codebookDim 0 and does not use a codebook; create it with codebookDim = the tokenizer codeDim');
    }
    if (codebook.rank !== 2 || codebook.shape[0] !== K || codebook.shape[1] !== cd) {
      throw new InvalidInputError(
        `codebook must be [${K}, ${cd}] (codebookSize × codebookDim), got [${codebook.shape.join(', ')}]; pass the codebook of the tokenizer the generator is trained for`,
      );
    }
    tf.tidy(() => {
      const centred = tf.sub(codebook, tf.mean(codebook, 0, true));
      const rms = tf.sqrt(tf.add(tf.mean(tf.square(centred)), 1e-12));
      this.network.codebook!.assign(tf.div(centred, rms) as tf.Tensor2D);
    });
  }

  get positions(): number {
    return this.network.positions;
  }
  get perPosition(): number {
    return this.network.perPosition;
  }
  get geometry(): { height: number; width: number; group: number } {
    return { height: this.config.gridHeight, width: this.config.gridWidth, group: this.config.group };
  }

  private dims() {
    return {
      positions: this.positions,
      perPosition: this.perPosition,
      codebookSize: this.config.codebookSize,
      captionLength: this.config.maxCaptionLength,
      nullWord: this.network.captionVocab,
    };
  }

  /**
   * Tensors of a training batch: MaskGIT corruption and caption dropout drawn from `rng`. Made by the batch
   * source (outside the forward pass) because core's Embedding needs its id tensors alive for the backward pass.
   */
  batchTensors(batch: GeneratorBatch, rng: Rng, training = true, exemplars?: readonly number[]): GeneratorTensors {
    const { positions: P, perPosition: G, captionLength: L } = this.dims();
    const B = batch.size;
    const K = this.config.codebookSize;
    const m = maskBatch(batch, this.dims(), training ? this.config.captionDropout : 0, rng, this.codeWeights);
    // the loss covers masked positions only (all G tokens of a position are masked together): score just those rows
    const rows: number[] = [];
    for (let r = 0; r < B * P; r++) if (m.inputs[r * G] === K) rows.push(r);
    const targets = new Int32Array(rows.length * G);
    const weights = new Float32Array(rows.length * G);
    rows.forEach((r, i) => {
      targets.set(batch.targets.subarray(r * G, (r + 1) * G), i * G);
      weights.set(m.weights.subarray(r * G, (r + 1) * G), i * G);
    });
    return {
      exemplar: exemplars && this.exemplarCorpus ? this.exemplarTensors(exemplars) : undefined,
      size: B,
      words: tf.tensor2d(m.words, [B, L], 'int32'),
      wordMask: tf.tensor2d(m.wordMask, [B, L], 'float32'),
      inputs: tf.tensor3d(this.network.slotIds(m.inputs), [B, P, G], 'int32'),
      targets: tf.tensor1d(targets, 'int32'),
      weights: tf.tensor1d(weights, 'float32'),
      rows: tf.tensor1d(rows, 'int32'),
    };
  }

  /** Training loss of a batch: label-smoothed cross-entropy on the masked positions. */
  loss(t: GeneratorTensors, rng: Rng, training = true): tf.Scalar {
    const { perPosition: G, codebookSize: K } = this.dims();
    const cap = this.network.encodeCaption(t.words, t.wordMask, training, rng);
    const logits = this.network.predict(t.inputs, cap, t.wordMask, training, rng, t.exemplar, t.rows);
    const flat = tf.reshape(logits, [t.rows.shape[0] * G, K]) as tf.Tensor2D;
    const ce = crossEntropy(flat, t.targets, t.weights);
    const eps = this.config.labelSmoothing;
    if (eps <= 0) return ce;
    // uniform part of label smoothing: mean over classes of −log p, weighted like the targets
    const uni = tf.neg(tf.mean(tf.logSoftmax(flat), 1));
    const smooth = tf.div(tf.sum(tf.mul(uni, t.weights)), tf.maximum(tf.sum(t.weights), 1e-12));
    return tf.add(tf.mul(ce, 1 - eps), tf.mul(smooth, eps)) as tf.Scalar;
  }

  /** Encodes captions to word ids; empty captions or unknown words throw `InvalidInputError`. */
  encodeCaptions(captions: readonly string[]): { words: Int32Array; mask: Float32Array } {
    return this.captions.encodeBatch(captions);
  }

  /**
   * Trains on caption–token pairs with core's trainer (AdamW, warmup + cosine, clipping, checkpoints, resume).
   * Every example's tokens must be a `gridHeight × gridWidth` grid of ids in `[0, codebookSize)`.
   */
  async train(examples: readonly TokenTrainingExample[], opts: GeneratorTrainOptions): Promise<TrainResult> {
    rejectUnknownOptions(opts, GENERATOR_TRAIN_KEYS, 'CaptionTokenGenerator.train');
    if (examples.length === 0) throw new InvalidInputError('no training examples; pass at least one { caption, tokens } pair');
    if (this.network.codebook && tf.tidy(() => tf.max(tf.abs(this.network.codebook!)).dataSync()[0]) === 0) {
      throw new InvalidInputError('this generator reads tokens through the tokenizer codebook (codebookDim > 0): call generator.setCodebook(tokenizer.codebook) before training');
    }
    const { gridHeight: H, gridWidth: W, codebookSize: K, maxCaptionLength: L } = this.config;
    const n = examples.length;
    const { words, mask } = this.encodeCaptions(examples.map((e) => e.caption));
    const flat = new Int32Array(n * H * W);
    examples.forEach((e, i) => {
      if (e.tokens.length !== H * W) {
        throw new InvalidInputError(`example ${i}: tokens must be a ${H}×${W} grid (${H * W} ids), got ${e.tokens.length}`);
      }
      for (let j = 0; j < H * W; j++) {
        const v = e.tokens[j];
        if (!Number.isInteger(v) || v < 0 || v >= K) {
          throw new InvalidInputError(`example ${i}: token id ${v} is outside [0, ${K}); was the grid made by a tokenizer with ${K} codes?`);
        }
        flat[i * H * W + j] = v;
      }
    });
    const grouped = groupTokens(flat, n, this.geometry);
    const PG = this.positions * this.perPosition;
    // exemplars: one grid per distinct image, indexed by the examples' keys
    let exemplarOf: ((src: number, rng: Rng) => number) | undefined;
    if (this.config.exemplars) {
      const imageOf = new Map<number, number>();
      const firstExample: number[] = [];
      const corpusIndex = examples.map((e, i) => {
        const id = e.image ?? i;
        if (!imageOf.has(id)) {
          imageOf.set(id, firstExample.length);
          firstExample.push(i);
        }
        return imageOf.get(id)!;
      });
      const grids = new Int32Array(firstExample.length * PG);
      firstExample.forEach((ex, k) => grids.set(grouped.subarray(ex * PG, (ex + 1) * PG), k * PG));
      this.exemplarCorpus = ExemplarCorpus.build(
        grids,
        PG,
        examples.flatMap((e, i) => (e.exemplarKeys ?? []).map((key) => [key, corpusIndex[i]] as [string, number])),
      );
      const corpus = this.exemplarCorpus;
      const dropout = this.config.exemplarDropout;
      exemplarOf = (src, rng) => (rng.uniform() < dropout ? -1 : corpus.pick(examples[src].exemplarKeys, rng, corpusIndex[src]));
    }
    this.codeWeights = codeWeightsFor(flat, K, this.config.frequencyWeighting);
    const logW = this.codeWeights ? Float32Array.from(this.codeWeights, (w) => Math.log(w)) : new Float32Array(K);
    tf.tidy(() => this.network.codeLogWeight.assign(tf.tensor1d(logW)));
    const batchSize = Math.min(opts.batchSize ?? 64, n);
    const info = await initBackend({ log: opts.log });
    void info;
    const data = new EpochBatches(n, batchSize, opts.seed ?? this.config.seed, (idx, rng) => {
      const b: GeneratorBatch = {
        size: idx.length,
        words: new Int32Array(idx.length * L),
        wordMask: new Float32Array(idx.length * L),
        targets: new Int32Array(idx.length * PG),
      };
      idx.forEach((src, k) => {
        b.words.set(words.subarray(src * L, (src + 1) * L), k * L);
        b.wordMask.set(mask.subarray(src * L, (src + 1) * L), k * L);
        b.targets.set(grouped.subarray(src * PG, (src + 1) * PG), k * PG);
      });
      return this.batchTensors(b, rng, true, exemplarOf ? idx.map((src) => exemplarOf!(src, rng)) : undefined);
    });
    return train<GeneratorTensors>({
      module: this.network,
      loss: (batch, ctx) => this.loss(batch, ctx.rng, true),
      data,
      steps: opts.steps,
      optimizer: { lr: opts.lr ?? 2e-3, weightDecay: opts.weightDecay ?? 0.01 },
      schedule: { warmupSteps: opts.warmupSteps ?? Math.min(100, Math.floor(opts.steps / 10)), minLrRatio: opts.minLrRatio ?? 0.05 },
      seed: opts.seed ?? this.config.seed,
      checkpointDir: opts.checkpointDir,
      checkpointEvery: opts.checkpointEvery,
      metricsFile: opts.metricsFile,
      onProgress: opts.onProgress,
      abortSignal: opts.abortSignal,
      log: opts.log,
    });
  }

  /**
   * Samples token grids `[B, h, w]` (int32) for captions by MaskGIT parallel decoding: `steps` rounds, cosine
   * schedule, temperature, classifier-free guidance; reproducible for a seed and independent of the batch size
   * (caption `i` draws from `Rng(seed).fork(firstIndex + i)`; re-ranking candidate `c ≥ 1` of it from that
   * generator's `.fork(c)`, so candidate 0 is the plain sample).
   */
  async generateTokens(
    captions: readonly string[],
    options: SamplingOptionsInput & {
      abortSignal?: AbortSignal;
      firstIndex?: number;
      exemplarKeys?: readonly (readonly string[])[];
      candidate?: number;
    } = {},
  ): Promise<tf.Tensor3D> {
    rejectUnknownOptions(options, GENERATE_TOKENS_KEYS, 'CaptionTokenGenerator.generateTokens');
    const { abortSignal, firstIndex = 0, exemplarKeys, candidate = 0, ...rest } = options;
    if (!Number.isInteger(firstIndex) || firstIndex < 0) throw new InvalidInputError(`firstIndex must be a whole number ≥ 0, got ${firstIndex}`);
    if (!Number.isInteger(candidate) || candidate < 0) throw new InvalidInputError(`candidate must be a whole number ≥ 0, got ${candidate}`);
    if (exemplarKeys && !this.config.exemplars) {
      throw new InvalidInputError('exemplarKeys were given but this generator was created without exemplars; leave them out or train a generator with exemplars: true');
    }
    if (exemplarKeys && exemplarKeys.length !== captions.length) {
      throw new InvalidInputError(`exemplarKeys must have one entry per caption (${captions.length}), got ${exemplarKeys.length}`);
    }
    const o = parseConfig(SamplingOptionsSchema, rest, 'sampling options', 'CaptionTokenGenerator.generateTokens');
    if (captions.length === 0) throw new InvalidInputError('no captions given; pass at least one caption');
    const { words, mask } = this.encodeCaptions(captions);
    const { positions: P, perPosition: G, codebookSize: K, captionLength: L, nullWord } = this.dims();
    const { gridHeight: H, gridWidth: W } = this.config;
    const n = captions.length;
    const out = new Int32Array(n * H * W);
    const plan = decodingPlan(o.steps, P);
    const guided = o.guidanceScale !== 1;
    for (let start = 0; start < n; start += o.batchSize) {
      throwIfAborted(abortSignal);
      const B = Math.min(o.batchSize, n - start);
      const B2 = guided ? 2 * B : B;
      // conditional captions, then (with guidance) the same number of "no caption" rows
      const w = new Int32Array(B2 * L);
      const wm = new Float32Array(B2 * L);
      w.set(words.subarray(start * L, (start + B) * L));
      wm.set(mask.subarray(start * L, (start + B) * L));
      for (let b = B; b < B2; b++) {
        w[b * L] = nullWord;
        wm[b * L] = 1;
      }
      const wordsT = tf.tensor2d(w, [B2, L], 'int32');
      const maskT = tf.tensor2d(wm, [B2, L], 'float32');
      const cap = tf.tidy(() => this.network.encodeCaption(wordsT, maskT));
      const state = initialDecodingState(B, P, G, K);
      // one generator per caption: results do not depend on how captions are batched
      const rngs = Array.from({ length: B }, (_, b) => captionRng(o.seed, firstIndex + start + b, candidate));
      // exemplars: retrieved per caption with its own generator (guided rows read the same exemplar)
      const exemplar = this.exemplarCorpus
        ? this.exemplarTensors(
            rngs.map((r, b) => this.exemplarCorpus!.pick(exemplarKeys?.[start + b], r)),
            guided ? 2 : 1,
          )
        : undefined;
      try {
        for (let step = 0; step < plan.length; step++) {
          const probsT = tf.tidy(() => {
            const slots = tf.tensor3d(this.network.slotIds(state.ids), [B, P, G], 'int32');
            const ids = guided ? tf.concat([slots, slots], 0) : slots;
            let logits: tf.Tensor = this.network.predict(ids as tf.Tensor3D, cap, maskT, false, undefined, exemplar);
            if (guided) {
              const c = tf.slice(logits, [0, 0, 0, 0], [B, -1, -1, -1]);
              const u = tf.slice(logits, [B, 0, 0, 0], [B, -1, -1, -1]);
              logits = tf.add(u, tf.mul(tf.sub(c, u), o.guidanceScale));
            }
            if (o.priorCorrection > 0) logits = tf.sub(logits, tf.mul(this.network.codeLogWeight, o.priorCorrection));
            return tf.softmax(o.temperature > 0 ? tf.div(logits, o.temperature) : logits);
          });
          const logits = (await probsT.data()) as Float32Array;
          probsT.dispose();
          const ratio = (step + 1) / plan.length;
          const per = P * G * K;
          for (let b = 0; b < B; b++) {
            const one = {
              batch: 1,
              positions: P,
              perPosition: G,
              codebookSize: K,
              ids: state.ids.subarray(b * P * G, (b + 1) * P * G),
              masked: state.masked.subarray(b * P, (b + 1) * P),
            };
            parallelDecodingStep(
              one,
              logits.subarray(b * per, (b + 1) * per),
              { greedy: o.temperature <= 0, choiceTemperature: o.choiceTemperature * (1 - ratio), maskedAfter: plan[step] },
              rngs[b],
            );
          }
        }
      } finally {
        wordsT.dispose();
        maskT.dispose();
        cap.context.dispose();
        cap.pooled.dispose();
        if (exemplar) tf.dispose([exemplar.slotIds, exemplar.mask]);
      }
      out.set(ungroupTokens(state.ids, B, this.geometry), start * H * W);
    }
    return tf.tensor3d(out, [n, H, W], 'int32');
  }

  dispose(): void {
    this.network.dispose();
  }
}

/** The generator caption `index` of a run draws from: `Rng(seed).fork(index)`, and `.fork(candidate)` of that for c ≥ 1. */
function captionRng(seed: number, index: number, candidate: number): Rng {
  const own = new Rng(seed).fork(index);
  return candidate === 0 ? own : own.fork(candidate);
}

/** (frequency / mean frequency)^−α per code, clipped to [0.05, 20] and normalised to a token-weighted mean of 1. */
function codeWeightsFor(tokens: Int32Array, K: number, alpha: number): Float32Array | undefined {
  if (alpha <= 0) return undefined;
  const counts = new Float64Array(K);
  for (const t of tokens) counts[t]++;
  const mean = tokens.length / K;
  const w = new Float32Array(K);
  let total = 0;
  for (let k = 0; k < K; k++) {
    w[k] = Math.min(20, Math.max(0.05, Math.pow(Math.max(counts[k], 1) / mean, -alpha)));
    total += w[k] * counts[k];
  }
  const norm = tokens.length / total;
  for (let k = 0; k < K; k++) w[k] *= norm;
  return w;
}
