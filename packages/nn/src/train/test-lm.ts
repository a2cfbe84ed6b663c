// A tiny causal transformer LM and corpus for this folder's tests (not exported from the package).
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@synth2/core';
import { Embedding } from '../nn/embedding';
import { LayerNorm } from '../nn/layer-norm';
import { Linear } from '../nn/linear';
import { crossEntropy } from '../nn/losses';
import { Module } from '../nn/module';
import { LearnedPositionEmbedding } from '../nn/positions';
import { TransformerBlock } from '../nn/transformer-block';
import { mixedBatches } from './mixed-batches';

export interface TinyLMConfig {
  vocab: number;
  dim: number;
  layers: number;
  heads: number;
  seq: number;
  dropout?: number;
}

export class TinyLM extends Module {
  readonly tok: Embedding;
  readonly pos: LearnedPositionEmbedding;
  readonly blocks: TransformerBlock[] = [];
  readonly lnF: LayerNorm;
  readonly head: Linear;

  constructor(readonly config: TinyLMConfig, seed = 0) {
    super('lm', { rng: new Rng(seed) });
    const { vocab, dim, layers, heads, seq } = config;
    const rng = this.rng;
    this.tok = this.child('tok', new Embedding('tok', { vocabSize: vocab, dim, rng }));
    this.pos = this.child('pos', new LearnedPositionEmbedding('pos', { length: seq, dim, rng }));
    for (let i = 0; i < layers; i++) {
      this.blocks.push(this.child(`blocks.${i}`, new TransformerBlock('b', { dim, heads, mlpRatio: 2, dropout: config.dropout ?? 0, rng })));
    }
    this.lnF = this.child('lnF', new LayerNorm('lnF', { dim }));
    this.head = this.child('head', new Linear('head', { inDim: dim, outDim: vocab, rng }));
  }

  /** ids `[B, T]` → logits `[B·T, vocab]`. */
  logits(ids: tf.Tensor, training = false, rng?: Rng): tf.Tensor {
    return tf.tidy(() => {
      let h = this.pos.apply(this.tok.apply(ids));
      for (const b of this.blocks) h = b.apply(h, { causal: true, training, rng });
      return tf.reshape(this.head.apply(this.lnF.apply(h)), [-1, this.config.vocab]);
    });
  }
}

export const CORPUS = 'the cat sat on the mat. the dog ran to the log. a bird sang in the tree.';
export const CHARS = [...new Set(CORPUS)].sort();

/** Windows of `seq + 1` token ids over the corpus, every `stride` characters. */
export function windows(seq: number, stride = 3): number[][] {
  const ids = [...CORPUS].map((c) => CHARS.indexOf(c));
  const out: number[][] = [];
  for (let i = 0; i + seq + 1 <= ids.length; i += stride) out.push(ids.slice(i, i + seq + 1));
  return out;
}

export interface LMBatch {
  ids: tf.Tensor2D;
  targets: tf.Tensor1D;
}

export function collate(items: number[][]): LMBatch {
  const seq = items[0].length - 1;
  const ids = tf.tensor2d(items.map((w) => w.slice(0, seq)), [items.length, seq], 'int32');
  const targets = tf.tensor1d(items.flatMap((w) => w.slice(1)), 'int32');
  return { ids, targets };
}

export function lmLoss(model: TinyLM) {
  return (batch: LMBatch, ctx: { rng: Rng }): tf.Scalar => crossEntropy(model.logits(batch.ids, true, ctx.rng), batch.targets);
}

/** Two sources (first half / second half of the windows) mixed 3:1. */
export function lmData(seq: number, batchSize: number, seed = 1) {
  const all = windows(seq);
  const half = Math.floor(all.length / 2);
  return mixedBatches<number[], LMBatch>({
    sources: [
      { name: 'human', items: all.slice(0, half), ratio: 3 },
      { name: 'synthetic', items: all.slice(half), ratio: 1 },
    ],
    batchSize,
    collate,
    seed,
  });
}
