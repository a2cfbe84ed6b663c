import { Rng } from '@synth2/core';
import {
  tf,
  Embedding,
  LayerNorm,
  LearnedPositionEmbedding,
  Linear,
  Module,
  TransformerBlock,
  sinusoidalPositions2d,
} from '@synth2/nn';
import type { VlmArchitecture } from '../config/vlm-config';

export interface ForwardOptions {
  training?: boolean;
  rng?: Rng;
}

/**
 * Perceiver resampler: L learned latents attend to the image tokens through a few cross-attention blocks
 * (latent self-attention, cross-attention to the image, MLP), then a final layer norm.
 */
/** A transformer block that cross-attends to `dim`-wide context (the resampler's and the decoder's layers). */
function crossBlockOptions(c: VlmArchitecture, rng: Rng, gatedCross: boolean) {
  return { dim: c.dim, heads: c.heads, mlpRatio: c.mlpRatio, crossAttention: true, crossDim: c.dim, gatedCross, dropout: c.dropout, rng };
}

export class PerceiverResampler extends Module {
  readonly latents: tf.Variable;
  private readonly blocks: TransformerBlock[];
  private readonly norm: LayerNorm;
  private readonly dim: number;

  constructor(name: string, c: VlmArchitecture, rng: Rng) {
    super(name, { rng });
    this.dim = c.dim;
    this.latents = this.param('latents', [c.resampler.latents, c.dim], { kind: 'normal', std: 1 });
    this.blocks = Array.from({ length: c.resampler.layers }, (_, i) =>
      this.child(
        `blocks.${i}`,
        new TransformerBlock(`blocks.${i}`, crossBlockOptions(c, rng, false)),
      ),
    );
    this.norm = this.child('norm', new LayerNorm('norm', { dim: c.dim }));
  }

  /** `image: [B, N, dim]` → latents `[B, L, dim]`. */
  apply(image: tf.Tensor3D, opts: ForwardOptions = {}): tf.Tensor3D {
    const b = image.shape[0];
    let x = tf.add(tf.zeros([b, this.latents.shape[0], this.dim]), this.latents) as tf.Tensor3D;
    for (const block of this.blocks) {
      x = block.apply(x, { context: image, training: opts.training, rng: opts.rng }) as tf.Tensor3D;
    }
    return this.norm.apply(x) as tf.Tensor3D;
  }
}

/**
 * Decoder-only caption language model: word + learned position embeddings, causal self-attention blocks with
 * gated (Flamingo, tanh gate initialised at 0) cross-attention to the resampled latents, a final norm and an
 * output projection over the vocabulary.
 */
export class CaptionDecoder extends Module {
  private readonly embed: Embedding;
  private readonly pos: LearnedPositionEmbedding;
  private readonly blocks: TransformerBlock[];
  private readonly norm: LayerNorm;
  private readonly head: Linear;

  constructor(name: string, c: VlmArchitecture, vocabSize: number, rng: Rng) {
    super(name, { rng });
    this.embed = this.child('embed', new Embedding('embed', { vocabSize, dim: c.dim, rng }));
    this.pos = this.child('pos', new LearnedPositionEmbedding('pos', { length: c.maxCaptionLength + 1, dim: c.dim, rng }));
    this.blocks = Array.from({ length: c.decoder.layers }, (_, i) =>
      this.child(
        `blocks.${i}`,
        new TransformerBlock(`blocks.${i}`, crossBlockOptions(c, rng, true)),
      ),
    );
    this.norm = this.child('norm', new LayerNorm('norm', { dim: c.dim }));
    this.head = this.child('head', new Linear('head', { inDim: c.dim, outDim: vocabSize, rng }));
    if (c.decoder.gateInit !== 0) {
      for (const block of this.blocks) block.gate?.assign(tf.fill([1], c.decoder.gateInit));
    }
  }

  /** `ids: int32 [B, T]`, `latents: [B, L, dim]` → logits `[B, T, V]`. */
  apply(ids: tf.Tensor2D, latents: tf.Tensor3D, opts: ForwardOptions = {}): tf.Tensor3D {
    let x = this.pos.apply(this.embed.apply(ids) as tf.Tensor3D) as tf.Tensor3D;
    for (const block of this.blocks) {
      x = block.apply(x, { causal: true, context: latents, training: opts.training, rng: opts.rng }) as tf.Tensor3D;
    }
    return this.head.apply(this.norm.apply(x)) as tf.Tensor3D;
  }
}

/** The whole network: input projection + 2-D positions → optional self-attention encoder → resampler → caption decoder. */
export class VlmNetwork extends Module {
  readonly inputProj: Linear;
  /** Normalises the projected image tokens so they are on the scale of the positions (codebook vectors are small). */
  readonly inputNorm: LayerNorm;
  /** Self-attention blocks over the image tokens (`encoder.layers`, may be none). */
  private readonly encoderBlocks: TransformerBlock[];
  /** The resampler, or none (`resampler.layers` 0: the decoder reads the normalised image tokens). */
  readonly resampler: PerceiverResampler | undefined;
  private readonly imageNorm: LayerNorm | undefined;
  readonly decoder: CaptionDecoder;
  /** Fixed 2-D sinusoidal positions of the (regrouped) image tokens, `[N', dim]`. */
  private readonly positions: tf.Tensor2D;
  readonly tokenCount: number;
  readonly tokenWidth: number;

  constructor(c: VlmArchitecture, vocabSize: number) {
    const rng = new Rng(c.seed);
    super('vlm', { rng });
    const gh = c.grid[0] / c.group;
    const gw = c.grid[1] / c.group;
    this.tokenCount = gh * gw;
    this.tokenWidth = c.group * c.group * c.embeddingDim;
    this.inputProj = this.child('input', new Linear('input', { inDim: this.tokenWidth, outDim: c.dim, rng }));
    this.inputNorm = this.child('inputNorm', new LayerNorm('inputNorm', { dim: c.dim }));
    this.encoderBlocks = Array.from({ length: c.encoder.layers }, (_, i) =>
      this.child(
        `encoder.blocks.${i}`,
        new TransformerBlock(`encoder.blocks.${i}`, { dim: c.dim, heads: c.heads, mlpRatio: c.mlpRatio, dropout: c.dropout, rng }),
      ),
    );
    if (c.resampler.layers > 0) this.resampler = this.child('resampler', new PerceiverResampler('resampler', c, rng));
    else this.imageNorm = this.child('imageNorm', new LayerNorm('imageNorm', { dim: c.dim }));
    this.decoder = this.child('decoder', new CaptionDecoder('decoder', c, vocabSize, rng));
    this.positions = tf.keep(sinusoidalPositions2d(gh, gw, c.dim));
  }

  /** Regrouped embeddings `[B, N', g²d]` → the decoder's context: latents `[B, L, dim]` (or `[B, N', dim]` without a resampler). */
  encode(tokens: tf.Tensor3D, opts: ForwardOptions = {}): tf.Tensor3D {
    let x = tf.add(this.inputNorm.apply(this.inputProj.apply(tokens)), this.positions) as tf.Tensor3D;
    for (const block of this.encoderBlocks) x = block.apply(x, { training: opts.training, rng: opts.rng }) as tf.Tensor3D;
    return this.resampler ? this.resampler.apply(x, opts) : (this.imageNorm!.apply(x) as tf.Tensor3D);
  }

  override dispose(): void {
    super.dispose();
    if (!this.positions.isDisposed) this.positions.dispose();
  }
}
