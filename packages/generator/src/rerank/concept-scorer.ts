import { InvalidInputError, Rng, tokenizeCaption } from '@synth2/core';
import { Conv2d, Linear, Module } from '@synth2/core/nn';
import { tf } from '@synth2/core/tf';
import { train } from '@synth2/core/train';

/** Image embeddings `[N, h·w, d]` as a flat array and its shape. */
export interface EmbeddingBatch {
  data: Float32Array;
  shape: readonly [number, number, number];
}

export interface ConceptScorerFitOptions {
  /** Embeddings of the human images, `[N, h·w, d]` (the tokenizer's codebook vectors). */
  embeddings: EmbeddingBatch;
  /** Each image's human captions. */
  captions: readonly (readonly string[])[];
  /** A word becomes a label when at least this many images mention it (default 10)… */
  minImages?: number;
  /** …and at most this share of the images (default 0.8): words almost every caption uses tell candidates apart from nothing. */
  maxShare?: number;
  /** Convolution channels (default 48). */
  hidden?: number;
  steps?: number;
  batchSize?: number;
  lr?: number;
  seed?: number;
  abortSignal?: AbortSignal;
}

/**
 * Scores how well an image embedding shows what a caption says, for re-ranking generated candidates (as DALL·E
 * re-ranks its samples with CLIP). A small convolutional network over the grid of codebook vectors, max-pooled over
 * the grid, predicts for every content word of the human captions whether annotators mention it for this image
 * (independent sigmoids, soft targets: the share of the image's captions that use the word). Words are scored one by
 * one, so an unseen combination of seen words (a held-out colour–shape pair) gets a meaningful score. Trained on the
 * human pairs only, like the generator.
 */
export class ConceptScorer extends Module {
  private readonly c1: Conv2d;
  private readonly c2: Conv2d;
  private readonly c3: Conv2d;
  private readonly head: Linear;
  private readonly index: Map<string, number>;

  private constructor(
    readonly gridHeight: number,
    readonly gridWidth: number,
    readonly codeDim: number,
    readonly words: readonly string[],
    hidden: number,
    seed: number,
  ) {
    const rng = new Rng(seed).fork('concept-scorer');
    super('conceptScorer', { rng });
    this.c1 = this.child('c1', new Conv2d('c1', { inChannels: codeDim, outChannels: hidden, kernel: 3, stride: 2, rng }));
    this.c2 = this.child('c2', new Conv2d('c2', { inChannels: hidden, outChannels: hidden, kernel: 3, rng }));
    this.c3 = this.child('c3', new Conv2d('c3', { inChannels: hidden, outChannels: hidden, kernel: 3, rng }));
    this.head = this.child('head', new Linear('head', { inDim: hidden, outDim: words.length, rng }));
    this.index = new Map(words.map((w, i) => [w, i]));
  }

  /** Trains a scorer on human pairs. Deterministic for a seed. */
  static async fit(opts: ConceptScorerFitOptions): Promise<ConceptScorer> {
    const [N, n, d] = opts.embeddings.shape;
    if (opts.embeddings.data.length !== N * n * d) {
      throw new InvalidInputError(`ConceptScorer.fit: embeddings hold ${opts.embeddings.data.length} values, shape [${N}, ${n}, ${d}] needs ${N * n * d}`);
    }
    if (opts.captions.length !== N) {
      throw new InvalidInputError(`ConceptScorer.fit: ${N} embeddings but ${opts.captions.length} caption lists; give one list of captions per image`);
    }
    const side = Math.round(Math.sqrt(n));
    if (side * side !== n) throw new InvalidInputError(`ConceptScorer.fit: ${n} tokens per image is not a square grid`);
    const minImages = opts.minImages ?? 10;
    const maxShare = opts.maxShare ?? 0.8;
    // soft targets: the share of an image's captions that use each word
    const perImage = opts.captions.map((caps) => {
      const counts = new Map<string, number>();
      for (const c of caps) for (const w of new Set(tokenizeCaption(c))) counts.set(w, (counts.get(w) ?? 0) + 1);
      return { counts, total: Math.max(1, caps.length) };
    });
    const images = new Map<string, number>();
    for (const { counts } of perImage) for (const w of counts.keys()) images.set(w, (images.get(w) ?? 0) + 1);
    const words = [...images.entries()]
      .filter(([, k]) => k >= minImages && k <= maxShare * N)
      .map(([w]) => w)
      .sort();
    if (!words.length) {
      throw new InvalidInputError(
        `ConceptScorer.fit: no word is used for between ${minImages} and ${Math.floor(maxShare * N)} of the ${N} images; give more human pairs or lower minImages`,
      );
    }
    const scorer = new ConceptScorer(side, side, d, words, opts.hidden ?? 48, opts.seed ?? 0);
    const W = words.length;
    const targets = new Float32Array(N * W);
    perImage.forEach(({ counts, total }, i) => {
      words.forEach((w, j) => {
        targets[i * W + j] = (counts.get(w) ?? 0) / total;
      });
    });
    const bs = Math.min(opts.batchSize ?? 64, N);
    const D = n * d;
    const rng = new Rng(opts.seed ?? 0).fork('concept-scorer-data');
    let perm: number[] = [];
    let cursor = N;
    const data = {
      next: () => {
        const xb = new Float32Array(bs * D);
        const yb = new Float32Array(bs * W);
        for (let k = 0; k < bs; k++) {
          if (cursor >= N) {
            perm = rng.permutation(N);
            cursor = 0;
          }
          const i = perm[cursor++];
          xb.set(opts.embeddings.data.subarray(i * D, (i + 1) * D), k * D);
          yb.set(targets.subarray(i * W, (i + 1) * W), k * W);
        }
        return { xb, yb };
      },
      getState: () => ({ cursor, perm }),
      setState: (s: { cursor: number; perm: number[] }) => {
        cursor = s.cursor;
        perm = s.perm;
      },
    };
    await train({
      module: scorer,
      loss: (b: { xb: Float32Array; yb: Float32Array }) => {
        const z = scorer.logits(tf.tensor3d(b.xb, [bs, n, d]));
        return tf.losses.sigmoidCrossEntropy(tf.tensor2d(b.yb, [bs, W]), z) as tf.Scalar;
      },
      data,
      steps: opts.steps ?? 400,
      optimizer: { lr: opts.lr ?? 2e-3, weightDecay: 0.01 },
      schedule: { warmupSteps: 20, minLrRatio: 0.1 },
      seed: opts.seed ?? 0,
      abortSignal: opts.abortSignal,
      log: () => {},
    } as never);
    return scorer;
  }

  /** Word logits `[B, words]` for embeddings `[B, h·w, d]`. */
  logits(x: tf.Tensor3D): tf.Tensor2D {
    return tf.tidy(() => {
      const img = tf.reshape(x, [-1, this.gridHeight, this.gridWidth, this.codeDim]) as tf.Tensor4D;
      const f1 = tf.relu(this.c1.apply(img)) as tf.Tensor4D;
      const f2 = tf.relu(this.c2.apply(f1)) as tf.Tensor4D;
      const f3 = tf.relu(this.c3.apply(f2));
      // max over the grid: where the object is does not change what it is
      return this.head.apply(tf.max(f3, [1, 2]) as tf.Tensor2D) as tf.Tensor2D;
    });
  }

  /** The caption's words the scorer knows (its labels), deduplicated. */
  scoredWords(caption: string): string[] {
    return [...new Set(tokenizeCaption(caption))].filter((w) => this.index.has(w));
  }

  /**
   * Σ over the caption's scored words of log p(word is mentioned | embedding): higher is a better match. Only
   * comparable between embeddings scored against the same caption. `embeddings` is `[B, h·w, d]`, one caption each.
   */
  score(embeddings: tf.Tensor3D, captions: readonly string[]): Float32Array {
    const B = embeddings.shape[0];
    if (captions.length !== B) throw new InvalidInputError(`ConceptScorer.score: ${B} embeddings but ${captions.length} captions`);
    if (embeddings.shape[1] !== this.gridHeight * this.gridWidth || embeddings.shape[2] !== this.codeDim) {
      throw new InvalidInputError(
        `ConceptScorer.score: embeddings of shape [${embeddings.shape.join(', ')}], the scorer was trained on [B, ${this.gridHeight * this.gridWidth}, ${this.codeDim}]`,
      );
    }
    const logP = tf.tidy(() => tf.logSigmoid(this.logits(embeddings)));
    const lp = logP.dataSync() as Float32Array;
    logP.dispose();
    const W = this.words.length;
    const out = new Float32Array(B);
    captions.forEach((c, b) => {
      let s = 0;
      for (const w of this.scoredWords(c)) s += lp[b * W + this.index.get(w)!];
      out[b] = s;
    });
    return out;
  }
}
