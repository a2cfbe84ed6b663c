import { Rng } from '@synth2/core';
import {
  Conv2d,
  Embedding,
  gelu,
  LayerNorm,
  LearnedPositionEmbedding,
  Linear,
  Module,
  TransformerBlock,
  tf,
} from '@synth2/nn';
import type { GeneratorConfig } from '../config';

/**
 * The network of a caption → token generator: a caption encoder (word embeddings + a small transformer) and a
 * bidirectional transformer over grouped token positions that cross-attends to the caption and also receives its
 * pooled summary at every position. Outputs logits `[B, P, G, K]` for every token of every position.
 */
export class TokenTransformer extends Module {
  readonly positions: number;
  readonly perPosition: number;
  /** Caption-vocabulary size; id `captionVocab` is the "no caption" token used for classifier-free guidance. */
  readonly captionVocab: number;
  private readonly cfg: GeneratorConfig;
  private readonly wordEmb: Embedding;
  private readonly wordPos: LearnedPositionEmbedding;
  private readonly capBlocks: TransformerBlock[] = [];
  private readonly capNorm: LayerNorm;
  private readonly pooled: Linear;
  private readonly tokEmb: Embedding;
  private readonly gridPos: LearnedPositionEmbedding | undefined;
  private readonly rowPos: tf.Variable | undefined;
  private readonly colPos: tf.Variable | undefined;
  private readonly blocks: TransformerBlock[] = [];
  /** Per block, with `convKernel`: the conv branch (norm, k×k conv over the position grid, output projection). */
  private readonly convs: { norm: LayerNorm; conv: Conv2d; out: Linear }[] = [];
  private readonly outNorm: LayerNorm;
  private readonly head: Linear;
  /** log of the per-code loss weights `[K]` the generator was trained with (zeros without frequency weighting). */
  readonly codeLogWeight: tf.Variable;
  /**
   * The tokenizer's codebook `[K, codebookDim]`, standardised (not trained; only with `codebookDim` > 0). Visible
   * tokens are also read through their code vectors and logits get a term `proj(h)·codebook`, so codes that look
   * alike (same edge, another colour) share what the network learns about them.
   */
  readonly codebook: tf.Variable | undefined;
  private readonly codeIn: Linear | undefined;
  private readonly codeOut: Linear | undefined;
  /** Marks the exemplar grid's positions in the cross-attention context (`exemplars`). */
  private readonly exemplarType: tf.Variable | undefined;
  private readonly exemplarIn: Linear | undefined;

  constructor(cfg: GeneratorConfig, captionVocab: number) {
    const rng = new Rng(cfg.seed);
    super('generator', { rng });
    this.cfg = cfg;
    this.captionVocab = captionVocab;
    const { dim, heads, gridHeight, gridWidth, group, codebookSize: K, maxCaptionLength: L } = cfg;
    this.positions = (gridHeight / group) * (gridWidth / group);
    this.perPosition = group * group;
    this.wordEmb = this.child('caption.words', new Embedding('words', { vocabSize: captionVocab + 1, dim, rng, initStd: cfg.embeddingInitStd }));
    this.wordPos = this.child('caption.pos', new LearnedPositionEmbedding('pos', { length: L, dim, rng }));
    for (let i = 0; i < cfg.captionLayers; i++) {
      this.capBlocks.push(this.child(`caption.blocks.${i}`, new TransformerBlock('block', { dim, heads, mlpRatio: cfg.mlpRatio, rng })));
    }
    this.capNorm = this.child('caption.norm', new LayerNorm('norm', { dim }));
    this.pooled = this.child('caption.pooled', new Linear('pooled', { inDim: dim, outDim: dim, rng }));
    this.tokEmb = this.child('tokens.embed', new Embedding('embed', { vocabSize: this.perPosition * (K + 1), dim, rng, initStd: cfg.embeddingInitStd }));
    if (cfg.axialPositions) {
      this.rowPos = this.param('tokens.row_pos', [gridHeight / group, dim], { kind: 'normal', std: 0.02 });
      this.colPos = this.param('tokens.col_pos', [gridWidth / group, dim], { kind: 'normal', std: 0.02 });
    } else {
      this.gridPos = this.child('tokens.pos', new LearnedPositionEmbedding('pos', { length: this.positions, dim, rng }));
    }
    for (let i = 0; i < cfg.layers; i++) {
      if (cfg.convKernel > 0) {
        this.convs.push({
          norm: this.child(`blocks.${i}.conv_norm`, new LayerNorm('conv_norm', { dim })),
          conv: this.child(`blocks.${i}.conv`, new Conv2d('conv', { inChannels: dim, outChannels: dim, kernel: cfg.convKernel, rng })),
          out: this.child(`blocks.${i}.conv_out`, new Linear('conv_out', { inDim: dim, outDim: dim, rng })),
        });
      }
      this.blocks.push(
        this.child(`blocks.${i}`, new TransformerBlock('block', { dim, heads, mlpRatio: cfg.mlpRatio, crossAttention: true, crossDim: dim, rng })),
      );
    }
    this.outNorm = this.child('out.norm', new LayerNorm('norm', { dim }));
    this.head = this.child('out.head', new Linear('head', { inDim: dim, outDim: this.perPosition * K, rng }));
    this.codeLogWeight = this.param('out.code_log_weight', [K], { kind: 'zeros' }, { trainable: false });
    if (cfg.exemplars) {
      this.exemplarType = this.param('exemplar.type', [dim], { kind: 'normal', std: 0.02 });
      this.exemplarIn = this.child('exemplar.in', new Linear('in', { inDim: dim, outDim: dim, rng }));
    }
    const cd = cfg.codebookDim;
    if (cd > 0) {
      this.codebook = this.param('tokens.codebook', [K, cd], { kind: 'zeros' }, { trainable: false });
      this.codeIn = this.child('tokens.code_in', new Linear('code_in', { inDim: this.perPosition * cd, outDim: dim, rng }));
      this.codeOut = this.child('out.code_out', new Linear('code_out', { inDim: dim, outDim: this.perPosition * cd, rng }));
    }
  }

  /** Caption context `[B, L, d]` and its pooled summary `[B, d]` from word ids `[B, L]` and a keep-mask `[B, L]`. */
  encodeCaption(words: tf.Tensor2D, mask: tf.Tensor2D, training = false, rng?: Rng): { context: tf.Tensor3D; pooled: tf.Tensor2D } {
    let h = this.wordPos.apply(this.wordEmb.apply(words) as tf.Tensor3D) as tf.Tensor;
    for (const b of this.capBlocks) h = b.apply(h, { keyMask: mask, training, rng });
    const context = this.capNorm.apply(h) as tf.Tensor3D;
    const m = tf.expandDims(mask, 2);
    const mean = tf.div(tf.sum(tf.mul(context, m), 1), tf.maximum(tf.sum(m, 1), 1));
    return { context, pooled: this.pooled.apply(mean) as tf.Tensor2D };
  }

  /**
   * Ids of the token embedding table for grouped token ids `[B, P, G]` (mask id = K): slot `s` uses rows
   * `s·(K+1) …`. Done in JS so that the id tensor can be made outside the forward pass (core's Embedding keeps
   * a reference to its ids for the backward pass).
   */
  slotIds(tokens: Int32Array): Int32Array {
    const K = this.cfg.codebookSize;
    const G = this.perPosition;
    const out = new Int32Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) out[i] = tokens[i] + (i % G) * (K + 1);
    return out;
  }

  /** Adds the grid positions' embeddings to `[B, P, d]`. */
  private addPositions(h: tf.Tensor): tf.Tensor {
    if (this.gridPos) return this.gridPos.apply(h);
    return tf.add(h, tf.reshape(tf.add(tf.expandDims(this.rowPos!, 1), tf.expandDims(this.colPos!, 0)), [this.positions, this.cfg.dim]));
  }

  /**
   * Logits `[B, P, G, K]` for slot ids `[B, P, G]` (see {@link slotIds}) given an encoded caption; with `scored` (flat
   * position indices `b·P + p`, `[M]`) only those positions' logits, `[M, 1, G, K]` (training scores masked positions
   * only: the output layers and the softmax are most of a step's cost at 16 tokens per position).
   */
  predict(
    slotIds: tf.Tensor3D,
    caption: { context: tf.Tensor3D; pooled: tf.Tensor2D },
    mask: tf.Tensor2D,
    training = false,
    rng?: Rng,
    exemplar?: { slotIds: tf.Tensor3D; mask: tf.Tensor2D },
    scored?: tf.Tensor1D,
  ): tf.Tensor4D {
    const { codebookSize: K } = this.cfg;
    const [B, P, G] = slotIds.shape;
    // one embedding lookup for the grid and its exemplar (core's Embedding keeps its ids for the backward pass)
    const both: tf.Tensor = tf.sum(this.tokEmb.apply(exemplar ? tf.concat([slotIds, exemplar.slotIds], 1) : slotIds), 2);
    let h: tf.Tensor = exemplar ? tf.slice(both, [0, 0, 0], [B, P, -1]) : both; // [B, P, d]
    let context = caption.context;
    let contextMask = mask;
    if (exemplar) {
      if (!this.exemplarType) throw new Error('internal: exemplar given to a generator without exemplars');
      // the exemplar's tokens at every position (a direct path: copy what is at the same place) and, with their
      // positions, in the cross-attention context (take it from elsewhere)
      const ex = tf.mul(tf.add(tf.slice(both, [0, P, 0], [B, P, -1]), this.exemplarType), tf.expandDims(exemplar.mask, 2));
      h = tf.add(h, this.exemplarIn!.apply(ex));
      context = tf.concat([context, this.addPositions(ex)], 1) as tf.Tensor3D;
      contextMask = tf.concat([mask, exemplar.mask], 1) as tf.Tensor2D;
    }
    const cd = this.cfg.codebookDim;
    if (this.codebook && this.codeIn) {
      // code vectors of the visible tokens (the mask id K reads a zero row), all G slots side by side → d
      const table = tf.concat([this.codebook, tf.zeros([1, cd])], 0);
      const tokenIds = tf.mod(slotIds, tf.scalar(K + 1, 'int32'));
      const vectors = tf.reshape(tf.gather(table, tf.reshape(tokenIds, [B * P * G])), [B, P, G * cd]);
      h = tf.add(h, this.codeIn.apply(vectors));
    }
    h = this.addPositions(tf.add(h, tf.expandDims(caption.pooled, 1)));
    const rows = this.cfg.gridHeight / this.cfg.group;
    const cols = this.cfg.gridWidth / this.cfg.group;
    this.blocks.forEach((b, i) => {
      const c = this.convs[i];
      if (c) {
        const grid = tf.reshape(c.norm.apply(h), [B, rows, cols, this.cfg.dim]);
        h = tf.add(h, c.out.apply(tf.reshape(gelu(c.conv.apply(grid)), [B, P, this.cfg.dim])));
      }
      h = b.apply(h, { context, contextMask, training, rng });
    });
    let out = this.outNorm.apply(h);
    let [n, p] = [B, P];
    if (scored) {
      out = tf.gather(tf.reshape(out, [B * P, this.cfg.dim]), scored);
      [n, p] = [scored.shape[0], 1];
    }
    let logits = tf.reshape(this.head.apply(out), [n, p, G, K]);
    if (this.codebook && this.codeOut) {
      const q = tf.reshape(this.codeOut.apply(out), [n * p * G, cd]);
      logits = tf.add(logits, tf.reshape(tf.matMul(q, tf.transpose(this.codebook)), [n, p, G, K]));
    }
    return logits as tf.Tensor4D;
  }
}
