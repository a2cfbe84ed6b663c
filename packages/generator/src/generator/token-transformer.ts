import { Rng } from '@synth2/core';
import { Embedding, LayerNorm, LearnedPositionEmbedding, Linear, Module, TransformerBlock } from '@synth2/core/nn';
import { tf } from '@synth2/core/tf';
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
  private readonly gridPos: LearnedPositionEmbedding;
  private readonly blocks: TransformerBlock[] = [];
  private readonly outNorm: LayerNorm;
  private readonly head: Linear;
  /** log of the per-code loss weights `[K]` the generator was trained with (zeros without frequency weighting). */
  readonly codeLogWeight: tf.Variable;

  constructor(cfg: GeneratorConfig, captionVocab: number) {
    const rng = new Rng(cfg.seed);
    super('generator', { rng });
    this.cfg = cfg;
    this.captionVocab = captionVocab;
    const { dim, heads, gridHeight, gridWidth, group, codebookSize: K, maxCaptionLength: L } = cfg;
    this.positions = (gridHeight / group) * (gridWidth / group);
    this.perPosition = group * group;
    this.wordEmb = this.child('caption.words', new Embedding('words', { vocabSize: captionVocab + 1, dim, rng }));
    this.wordPos = this.child('caption.pos', new LearnedPositionEmbedding('pos', { length: L, dim, rng }));
    for (let i = 0; i < cfg.captionLayers; i++) {
      this.capBlocks.push(this.child(`caption.blocks.${i}`, new TransformerBlock('block', { dim, heads, mlpRatio: cfg.mlpRatio, rng })));
    }
    this.capNorm = this.child('caption.norm', new LayerNorm('norm', { dim }));
    this.pooled = this.child('caption.pooled', new Linear('pooled', { inDim: dim, outDim: dim, rng }));
    this.tokEmb = this.child('tokens.embed', new Embedding('embed', { vocabSize: this.perPosition * (K + 1), dim, rng }));
    this.gridPos = this.child('tokens.pos', new LearnedPositionEmbedding('pos', { length: this.positions, dim, rng }));
    for (let i = 0; i < cfg.layers; i++) {
      this.blocks.push(
        this.child(`blocks.${i}`, new TransformerBlock('block', { dim, heads, mlpRatio: cfg.mlpRatio, crossAttention: true, crossDim: dim, rng })),
      );
    }
    this.outNorm = this.child('out.norm', new LayerNorm('norm', { dim }));
    this.head = this.child('out.head', new Linear('head', { inDim: dim, outDim: this.perPosition * K, rng }));
    this.codeLogWeight = this.param('out.code_log_weight', [K], { kind: 'zeros' }, { trainable: false });
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

  /** Logits `[B, P, G, K]` for slot ids `[B, P, G]` (see {@link slotIds}) given an encoded caption. */
  predict(slotIds: tf.Tensor3D, caption: { context: tf.Tensor3D; pooled: tf.Tensor2D }, mask: tf.Tensor2D, training = false, rng?: Rng): tf.Tensor4D {
    const { codebookSize: K } = this.cfg;
    const [B, P, G] = slotIds.shape;
    let h: tf.Tensor = tf.sum(this.tokEmb.apply(slotIds), 2); // [B, P, d]
    h = this.gridPos.apply(tf.add(h, tf.expandDims(caption.pooled, 1)) as tf.Tensor3D);
    for (const b of this.blocks) h = b.apply(h, { context: caption.context, contextMask: mask, training, rng });
    const logits = this.head.apply(this.outNorm.apply(h));
    return tf.reshape(logits, [B, P, G, K]) as tf.Tensor4D;
  }
}
