import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '@synth2/core';
import { MultiHeadAttention } from './attention';
import { Conv2d, ConvTranspose2d, ResConvBlock } from './conv';
import { Embedding } from './embedding';
import { LayerNorm } from './layer-norm';
import { Linear } from './linear';
import { crossEntropy } from './losses';
import { MLP } from './mlp';
import type { Module } from './module';
import { LearnedPositionEmbedding } from './positions';
import { TransformerBlock } from './transformer-block';
import { gradCheck, hasKernel, randomTensor, useBackend } from './test-utils';

/** Scalar probe: Σ output ⊙ R (R fixed random) so that every output element matters. */
function probe(out: tf.Tensor, seed = 99): tf.Scalar {
  return tf.sum(tf.mul(out, randomTensor(out.shape, seed))) as tf.Scalar;
}

/** Makes weights large enough that gradients are not dominated by float32 rounding. */
function enlarge(m: Module, factor: number): void {
  for (const [name, v] of m.parameters()) {
    if (name.endsWith('weight') && v.rank >= 2) tf.tidy(() => v.assign(tf.mul(v, factor)));
  }
}

function expectGradientsMatch(m: Module, f: () => tf.Scalar, extra: tf.Variable[] = []): void {
  const vars = new Map(m.parameters());
  extra.forEach((v, i) => vars.set(`input${i}`, v));
  const { failures, checked } = gradCheck(f, vars);
  expect(checked).toBeGreaterThan(0);
  expect(failures).toEqual([]);
}

describe.each(['wasm', 'cpu'] as const)('gradients vs finite differences on %s', (backend) => {
  beforeAll(() => useBackend(backend));
  const rng = () => new Rng(17);

  it('should catch a wrong gradient (the checker itself works)', () => {
    const x = tf.variable(randomTensor([4], 12));
    const wrong = tf.customGrad(((t: tf.Tensor) => ({ value: tf.square(t), gradFunc: (dy: tf.Tensor) => tf.mul(dy, t) })) as unknown as Parameters<typeof tf.customGrad>[0]);
    const { failures } = gradCheck(() => tf.sum(wrong(x) as tf.Tensor) as tf.Scalar, [x]);
    expect(failures.length).toBeGreaterThan(0);
    x.dispose();
  });

  it('should match for Linear (including the input)', () => {
    const l = new Linear('l', { inDim: 3, outDim: 4, rng: rng() });
    enlarge(l, 20);
    const x = tf.variable(randomTensor([2, 2, 3], 1));
    expectGradientsMatch(l, () => probe(l.apply(x)), [x]);
    l.dispose();
    x.dispose();
  });

  it.each(['oneHot', 'segmentSum'] as const)('should match for Embedding with the %s gradient', (gradient) => {
    if (gradient === 'segmentSum' && !hasKernel('UnsortedSegmentSum', backend)) {
      console.info(`skipped: ${backend} has no UnsortedSegmentSum kernel registered`);
      return;
    }
    const e = new Embedding('e', { vocabSize: 5, dim: 3, gradient, rng: rng() });
    enlarge(e, 20);
    const ids = tf.tensor2d([[1, 4, 1], [0, 2, 1]], [2, 3], 'int32');
    expectGradientsMatch(e, () => probe(e.apply(ids)));
    e.dispose();
  });

  it('should match for LayerNorm', () => {
    const ln = new LayerNorm('ln', { dim: 5 });
    tf.tidy(() => ln.weight.assign(randomTensor([5], 3, 2)));
    const x = tf.variable(randomTensor([3, 5], 4, 2));
    expectGradientsMatch(ln, () => probe(ln.apply(x)), [x]);
    ln.dispose();
    x.dispose();
  });

  it('should match for MLP', () => {
    const m = new MLP('mlp', { dim: 3, hidden: 6, rng: rng() });
    enlarge(m, 30);
    const x = tf.variable(randomTensor([2, 3], 5));
    expectGradientsMatch(m, () => probe(m.apply(x)), [x]);
    m.dispose();
    x.dispose();
  });

  it('should match for causal self-attention and masked cross-attention', () => {
    const self = new MultiHeadAttention('sa', { dim: 4, heads: 2, rng: rng() });
    enlarge(self, 20);
    const x = tf.variable(randomTensor([2, 3, 4], 6));
    expectGradientsMatch(self, () => probe(self.apply(x, { causal: true })), [x]);
    const cross = new MultiHeadAttention('ca', { dim: 4, heads: 2, kvDim: 3, rng: rng() });
    enlarge(cross, 20);
    const ctx = tf.variable(randomTensor([2, 3, 3], 7));
    const mask = tf.tensor2d([[1, 1, 0], [1, 1, 1]]);
    expectGradientsMatch(cross, () => probe(cross.apply(x, { context: ctx, keyMask: mask })), [ctx]);
    self.dispose();
    cross.dispose();
    x.dispose();
    ctx.dispose();
  });

  it('should match for a gated cross-attention TransformerBlock', () => {
    const b = new TransformerBlock('blk', { dim: 4, heads: 2, mlpRatio: 2, crossAttention: true, gatedCross: true, crossDim: 3, rng: rng() });
    enlarge(b, 15);
    tf.tidy(() => b.gate!.assign(tf.tensor1d([0.6])));
    const x = randomTensor([1, 3, 4], 8);
    const ctx = randomTensor([1, 2, 3], 9);
    expectGradientsMatch(b, () => probe(b.apply(x, { causal: true, context: ctx })));
    b.dispose();
  });

  it('should match for LearnedPositionEmbedding and crossEntropy', () => {
    const pos = new LearnedPositionEmbedding('pos', { length: 4, dim: 3, rng: rng() });
    const targets = tf.tensor1d([0, 2, 1], 'int32');
    const weights = tf.tensor1d([1, 0.5, 2]);
    const x = randomTensor([1, 3, 3], 10, 2);
    expectGradientsMatch(pos, () => crossEntropy(tf.reshape(pos.apply(x), [3, 3]), targets, weights));
    pos.dispose();
  });

  it('should match for Conv2d, ConvTranspose2d and ResConvBlock', () => {
    if (!hasKernel('Conv2DBackpropFilter', backend)) {
      console.info(`skipped: ${backend} has no Conv2DBackpropFilter kernel registered (the kernels pack adds it)`);
      return;
    }
    const x = tf.variable(randomTensor([1, 4, 4, 2], 11));
    const c = new Conv2d('c', { inChannels: 2, outChannels: 3, kernel: 3, stride: 2, rng: rng() });
    expectGradientsMatch(c, () => probe(c.apply(x)), [x]);
    const up = new ConvTranspose2d('up', { inChannels: 2, outChannels: 2, kernel: 3, stride: 2, rng: rng() });
    expectGradientsMatch(up, () => probe(up.apply(x)), [x]);
    const res = new ResConvBlock('res', { channels: 2, rng: rng() });
    expectGradientsMatch(res, () => probe(res.apply(x)), [x]);
    for (const m of [c, up, res]) m.dispose();
    x.dispose();
  });
});
