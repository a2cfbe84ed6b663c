import * as tf from '@tensorflow/tfjs-core';
import { InvalidInputError, type Rng } from '@synth2/core';
import { MultiHeadAttention } from './attention';
import { dropout } from './dropout';
import { LayerNorm } from './layer-norm';
import { MLP } from './mlp';
import { Module, type ModuleOptions } from './module';

/** Options of `TransformerBlock`. */
export interface TransformerBlockOptions extends ModuleOptions {
  dim: number;
  heads: number;
  /** MLP hidden width = `dim · mlpRatio` (default 4). */
  mlpRatio?: number;
  /** Add a cross-attention sub-layer over `context` (default false). */
  crossAttention?: boolean;
  /** Width of `context` (default `dim`). */
  crossDim?: number;
  /** Scale the cross-attention branch by `tanh(gate)`, gate initialised to 0 (Flamingo style). */
  gatedCross?: boolean;
  /** Dropout on every residual branch while training (default 0). */
  dropout?: number;
}

/** Options of `TransformerBlock.apply`: causal masking, padding mask and cross-attention context. */
export interface TransformerBlockApplyOptions {
  causal?: boolean;
  /** `[B, T]` padding mask of `x` (1 = keep). */
  keyMask?: tf.Tensor;
  /** `[B, Tc, crossDim]`, required when the block has cross-attention. */
  context?: tf.Tensor;
  /** `[B, Tc]` padding mask of `context`. */
  contextMask?: tf.Tensor;
  training?: boolean;
  /** Dropout's random source (the trainer's `ctx.rng`); required when training with dropout > 0. */
  rng?: Rng;
}

/**
 * Pre-LN transformer block: `x + attn(ln1(x))`, then (with cross-attention) `x + g·crossAttn(lnCross(x), context)`
 * where `g = tanh(gate)` when gated (else 1), then `x + mlp(ln2(x))`.
 */
export class TransformerBlock extends Module {
  readonly dim: number;
  readonly dropoutRate: number;
  readonly ln1: LayerNorm;
  readonly attn: MultiHeadAttention;
  readonly lnCross: LayerNorm | undefined;
  readonly crossAttn: MultiHeadAttention | undefined;
  readonly gate: tf.Variable | undefined;
  readonly ln2: LayerNorm;
  readonly mlp: MLP;

  constructor(name: string, options: TransformerBlockOptions) {
    super(name, options);
    const { dim, heads } = options;
    const rng = this.rng;
    this.dim = dim;
    this.dropoutRate = options.dropout ?? 0;
    if (!(this.dropoutRate >= 0 && this.dropoutRate < 1)) {
      throw new InvalidInputError(`${name}: dropout must be in [0, 1), got ${options.dropout}`);
    }
    const mlpRatio = options.mlpRatio ?? 4;
    this.ln1 = this.child('ln1', new LayerNorm('ln1', { dim }));
    this.attn = this.child('attn', new MultiHeadAttention('attn', { dim, heads, rng }));
    if (options.crossAttention) {
      this.lnCross = this.child('lnCross', new LayerNorm('lnCross', { dim }));
      this.crossAttn = this.child(
        'crossAttn',
        new MultiHeadAttention('crossAttn', { dim, heads, kvDim: options.crossDim ?? dim, rng }),
      );
      if (options.gatedCross) this.gate = this.param('gate', [1], { kind: 'zeros' });
    } else if (options.gatedCross) {
      throw new InvalidInputError(`${name}: gatedCross needs crossAttention: true`);
    }
    this.ln2 = this.child('ln2', new LayerNorm('ln2', { dim }));
    this.mlp = this.child('mlp', new MLP('mlp', { dim, hidden: Math.round(dim * mlpRatio), rng }));
  }

  /** `x: [B, T, dim]` → `[B, T, dim]`. */
  apply(x: tf.Tensor, opts: TransformerBlockApplyOptions = {}): tf.Tensor {
    if (this.crossAttn && !opts.context) {
      throw new InvalidInputError(`TransformerBlock ${this.path}: this block has cross-attention; pass opts.context [B, Tc, crossDim]`);
    }
    const training = opts.training ?? false;
    if (training && this.dropoutRate > 0 && !opts.rng) {
      throw new InvalidInputError(`TransformerBlock ${this.path}: training with dropout needs opts.rng (the trainer's ctx.rng)`);
    }
    const drop = (t: tf.Tensor): tf.Tensor => (training && this.dropoutRate > 0 ? dropout(t, this.dropoutRate, opts.rng!, true) : t);
    return tf.tidy(() => {
      let h = tf.add(x, drop(this.attn.apply(this.ln1.apply(x), { causal: opts.causal, keyMask: opts.keyMask })));
      if (this.crossAttn && this.lnCross) {
        let c = this.crossAttn.apply(this.lnCross.apply(h), { context: opts.context, keyMask: opts.contextMask });
        if (this.gate) c = tf.mul(c, tf.tanh(this.gate));
        h = tf.add(h, drop(c));
      }
      return tf.add(h, drop(this.mlp.apply(this.ln2.apply(h))));
    });
  }
}
