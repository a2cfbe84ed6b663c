import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidInputError, Rng } from '@synth2/core';
import { gelu } from './activations';
import { MultiHeadAttention } from './attention';
import { Conv2d, ConvTranspose2d, ResConvBlock } from './conv';
import { dropout } from './dropout';
import { Embedding } from './embedding';
import { LayerNorm } from './layer-norm';
import { Linear } from './linear';
import { crossEntropy } from './losses';
import { MLP } from './mlp';
import { LearnedPositionEmbedding, sinusoidalPositions1d, sinusoidalPositions2d } from './positions';
import { TransformerBlock } from './transformer-block';
import { maxAbsDiff, randomTensor, useBackend } from './test-utils';

const set = (v: tf.Variable, values: number[]): void => {
  tf.tidy(() => v.assign(tf.tensor(values, v.shape, 'float32')));
};
const arr = (t: tf.Tensor): number[] => {
  const out = [...t.dataSync()];
  t.dispose();
  return out;
};

/** Plain-JS multi-head attention used as the reference (row-major arrays). */
function referenceAttention(
  x: number[][][], ctx: number[][][], w: { q: number[]; k: number[]; v: number[]; o: number[]; qb: number[]; kb: number[]; vb: number[]; ob: number[] },
  dim: number, kvDim: number, heads: number, causal: boolean, keyMask?: number[][],
): number[][][] {
  const proj = (rows: number[][], W: number[], bias: number[], _inD: number): number[][] =>
    rows.map((r) => Array.from({ length: dim }, (_, j) => bias[j] + r.reduce((s, xv, i) => s + xv * W[i * dim + j], 0)));
  const hd = dim / heads;
  return x.map((xb, b) => {
    const q = proj(xb, w.q, w.qb, dim);
    const k = proj(ctx[b], w.k, w.kb, kvDim);
    const v = proj(ctx[b], w.v, w.vb, kvDim);
    const merged = q.map(() => new Array(dim).fill(0));
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < q.length; i++) {
        const scores = k.map((kr, j) => {
          let s = 0;
          for (let d = 0; d < hd; d++) s += q[i][h * hd + d] * kr[h * hd + d];
          s /= Math.sqrt(hd);
          if (causal && j > i) s = -Infinity;
          if (keyMask && keyMask[b][j] === 0) s = -Infinity;
          return s;
        });
        const m = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - m));
        const z = e.reduce((a, c) => a + c, 0);
        for (let d = 0; d < hd; d++) merged[i][h * hd + d] = e.reduce((s, p, j) => s + (p / z) * v[j][h * hd + d], 0);
      }
    }
    return proj(merged, w.o, w.ob, dim);
  });
}

describe.each(['wasm', 'cpu'] as const)('blocks on %s', (backend) => {
  beforeAll(() => useBackend(backend));

  describe('Linear', () => {
    it('should compute x·W + b for rank 2 and rank 3 inputs', () => {
      const l = new Linear('l', { inDim: 2, outDim: 3 });
      set(l.weight, [1, 0, -1, 2, 1, 0]);
      set(l.bias!, [0.5, -0.5, 1]);
      expect(arr(l.apply(tf.tensor2d([[1, 2]])))).toEqual([5.5, 1.5, 0]);
      const y = l.apply(tf.tensor3d([[[1, 2], [0, 1]]]));
      expect(y.shape).toEqual([1, 2, 3]);
      expect(arr(y)).toEqual([5.5, 1.5, 0, 2.5, 0.5, 1]);
      l.dispose();
    });

    it('should reject an input of the wrong width, saying the expected size', () => {
      const l = new Linear('proj', { inDim: 4, outDim: 2 });
      expect(() => l.apply(tf.zeros([2, 3]))).toThrow(InvalidInputError);
      expect(() => l.apply(tf.zeros([2, 3]))).toThrow(/Linear proj: .*last dimension 4, got shape \[2,3\]/);
      expect(() => l.apply(tf.zeros([4]))).toThrow(/rank ≥ 2/);
      l.dispose();
    });
  });

  describe('Embedding', () => {
    it('should look up rows for int32 ids of any shape', () => {
      const e = new Embedding('tok', { vocabSize: 3, dim: 2 });
      set(e.weight, [0, 1, 10, 11, 20, 21]);
      const y = e.apply(tf.tensor2d([[2, 0], [1, 1]], [2, 2], 'int32'));
      expect(y.shape).toEqual([2, 2, 2]);
      expect(arr(y)).toEqual([20, 21, 0, 1, 10, 11, 10, 11]);
      e.dispose();
    });

    it('should train when the ids are made inside the differentiated function', () => {
      const e = new Embedding('tok', { vocabSize: 3, dim: 2 });
      set(e.weight, [0, 1, 10, 11, 20, 21]);
      const grads = tf.tidy(() => {
        const { grads } = tf.variableGrads(() => tf.sum(e.apply(tf.tensor1d([2, 2, 0], 'int32'))) as tf.Scalar, [e.weight]);
        return grads[e.weight.name];
      });
      expect(arr(grads)).toEqual([1, 1, 0, 0, 2, 2]);
      grads.dispose();
      e.dispose();
    });

    it('should reject float ids', () => {
      const e = new Embedding('tok', { vocabSize: 3, dim: 2 });
      expect(() => e.apply(tf.tensor1d([1]))).toThrow(/ids must be an int32 tensor, got float32/);
      e.dispose();
    });
  });

  describe('LayerNorm', () => {
    it('should normalise over the last axis then scale and shift', () => {
      const ln = new LayerNorm('ln', { dim: 4 });
      const s = Math.sqrt(1.25 + 1e-5);
      const expected = [1, 2, 3, 4].map((v) => (v - 2.5) / s);
      expect(maxAbsDiff(arr(ln.apply(tf.tensor2d([[1, 2, 3, 4]]))), expected)).toBeLessThan(1e-5);
      set(ln.weight, [2, 2, 2, 2]);
      set(ln.bias, [1, 0, 0, 0]);
      const y = arr(ln.apply(tf.tensor3d([[[1, 2, 3, 4]]])));
      expect(maxAbsDiff(y, expected.map((v, i) => 2 * v + (i === 0 ? 1 : 0)))).toBeLessThan(1e-5);
      ln.dispose();
    });
  });

  describe('gelu and MLP', () => {
    it('should match the tanh-approximate GELU at known points', () => {
      const y = arr(gelu(tf.tensor1d([-1, 0, 1, 2])));
      expect(maxAbsDiff(y, [-0.15880801, 0, 0.84119199, 1.95459769])).toBeLessThan(1e-5);
    });

    it('should compute fc2(gelu(fc1(x)))', () => {
      const mlp = new MLP('mlp', { dim: 1, hidden: 2 });
      set(mlp.fc1.weight, [1, -2]);
      set(mlp.fc1.bias!, [0, 1]);
      set(mlp.fc2.weight, [1, 1]);
      set(mlp.fc2.bias!, [0.5]);
      // x = 1: hidden = [1, -1] → gelu = [0.84119, -0.15881] → 0.68238 + 0.5
      expect(maxAbsDiff(arr(mlp.apply(tf.tensor2d([[1]]))), [0.84119199 - 0.15880801 + 0.5])).toBeLessThan(1e-5);
      mlp.dispose();
    });
  });

  describe('MultiHeadAttention', () => {
    const dim = 4;
    const weightsOf = (m: MultiHeadAttention) => ({
      q: [...m.q.weight.dataSync()], k: [...m.k.weight.dataSync()], v: [...m.v.weight.dataSync()], o: [...m.o.weight.dataSync()],
      qb: [...m.q.bias!.dataSync()], kb: [...m.k.bias!.dataSync()], vb: [...m.v.bias!.dataSync()], ob: [...m.o.bias!.dataSync()],
    });
    const scaleUp = (m: MultiHeadAttention) => {
      for (const l of [m.q, m.k, m.v, m.o]) {
        tf.tidy(() => l.weight.assign(tf.mul(l.weight, 25)));
        tf.tidy(() => l.bias!.assign(randomTensor(l.bias!.shape, l.bias!.size, 0.3)));
      }
    };

    it('should match a plain reference for self-attention with a causal mask', () => {
      const m = new MultiHeadAttention('attn', { dim, heads: 2, rng: new Rng(1) });
      scaleUp(m);
      const x = randomTensor([2, 3, dim], 11);
      const xs = x.arraySync() as number[][][];
      for (const causal of [false, true]) {
        const ref = referenceAttention(xs, xs, weightsOf(m), dim, dim, 2, causal).flat(2);
        expect(maxAbsDiff(arr(m.apply(x, { causal })), ref)).toBeLessThan(1e-4);
      }
      m.dispose();
    });

    it('should match a plain reference for cross-attention with a key padding mask', () => {
      const m = new MultiHeadAttention('xattn', { dim, heads: 2, kvDim: 6, rng: new Rng(2) });
      scaleUp(m);
      const x = randomTensor([2, 2, dim], 12);
      const ctx = randomTensor([2, 3, 6], 13);
      const mask = [[1, 1, 0], [1, 0, 0]];
      const ref = referenceAttention(x.arraySync() as number[][][], ctx.arraySync() as number[][][], weightsOf(m), dim, 6, 2, false, mask).flat(2);
      const y = m.apply(x, { context: ctx, keyMask: tf.tensor2d(mask) });
      expect(y.shape).toEqual([2, 2, dim]);
      expect(maxAbsDiff(arr(y), ref)).toBeLessThan(1e-4);
      m.dispose();
    });

    it('should reject bad shapes with a message naming the expected shape', () => {
      expect(() => new MultiHeadAttention('a', { dim: 6, heads: 4 })).toThrow(/not divisible by heads 4/);
      const m = new MultiHeadAttention('a', { dim: 4, heads: 2, kvDim: 6 });
      expect(() => m.apply(tf.zeros([1, 2, 5]))).toThrow(/x must be \[B, T, 4\]/);
      expect(() => m.apply(tf.zeros([1, 2, 4]), { context: tf.zeros([1, 3, 4]) })).toThrow(/context must be \[1, Tk, 6\]/);
      expect(() => m.apply(tf.zeros([1, 2, 4]), { context: tf.zeros([1, 3, 6]), keyMask: tf.ones([1, 2]) })).toThrow(/keyMask must be \[1, 3\]/);
      m.dispose();
    });
  });

  describe('TransformerBlock', () => {
    it('should wire pre-LN residuals, with a zero gate leaving cross-attention out', () => {
      const rng = new Rng(5);
      const block = new TransformerBlock('blk', { dim: 4, heads: 2, crossAttention: true, gatedCross: true, crossDim: 6, rng });
      const x = randomTensor([1, 3, 4], 21);
      const ctx = randomTensor([1, 2, 6], 22);
      const manual = (withCross: boolean): number[] =>
        arr(tf.tidy(() => {
          let h = tf.add(x, block.attn.apply(block.ln1.apply(x), { causal: true }));
          if (withCross) {
            const c = block.crossAttn!.apply(block.lnCross!.apply(h), { context: ctx });
            h = tf.add(h, tf.mul(c, Math.tanh(0.7)));
          }
          return tf.add(h, block.mlp.apply(block.ln2.apply(h)));
        }));
      const y0 = arr(block.apply(x, { causal: true, context: ctx }));
      expect(maxAbsDiff(y0, manual(false))).toBeLessThan(1e-5);
      set(block.gate!, [0.7]);
      const y1 = arr(block.apply(x, { causal: true, context: ctx }));
      expect(maxAbsDiff(y1, manual(true))).toBeLessThan(1e-5);
      expect(() => block.apply(x)).toThrow(/pass opts.context/);
      block.dispose();
    });

    it('should apply seeded dropout only while training', () => {
      const block = new TransformerBlock('blk', { dim: 4, heads: 1, dropout: 0.5 });
      const x = randomTensor([1, 2, 4], 3);
      const eval1 = arr(block.apply(x));
      expect(arr(block.apply(x, { training: false }))).toEqual(eval1);
      const t1 = arr(block.apply(x, { training: true, rng: new Rng(9) }));
      const t2 = arr(block.apply(x, { training: true, rng: new Rng(9) }));
      expect(t1).toEqual(t2);
      expect(t1).not.toEqual(eval1);
      expect(() => block.apply(x, { training: true })).toThrow(/needs opts.rng/);
      block.dispose();
    });
  });

  describe('positions', () => {
    it('should build 1-D sinusoids', () => {
      const pe = sinusoidalPositions1d(3, 4);
      const v = arr(pe);
      const f = 1 / Math.pow(10000, 2 / 4);
      expect(maxAbsDiff(v, [0, 1, 0, 1, Math.sin(1), Math.cos(1), Math.sin(f), Math.cos(f), Math.sin(2), Math.cos(2), Math.sin(2 * f), Math.cos(2 * f)])).toBeLessThan(1e-6);
      expect(() => sinusoidalPositions1d(3, 5)).toThrow(/dim must be even/);
    });

    it('should build 2-D sinusoids as [row table | column table]', () => {
      const pe = sinusoidalPositions2d(2, 3, 4);
      expect(pe.shape).toEqual([6, 4]);
      const v = arr(pe);
      // cell (y=1, x=2): rows part = PE1d(1) of width 2 = [sin 1, cos 1]; cols part = PE1d(2) = [sin 2, cos 2]
      expect(maxAbsDiff(v.slice(5 * 4, 6 * 4), [Math.sin(1), Math.cos(1), Math.sin(2), Math.cos(2)])).toBeLessThan(1e-6);
      expect(() => sinusoidalPositions2d(2, 2, 6)).toThrow(/divisible by 4/);
    });

    it('should add learned positions for the first T rows and refuse longer inputs', () => {
      const pos = new LearnedPositionEmbedding('pos', { length: 3, dim: 2 });
      set(pos.weight, [1, 2, 3, 4, 5, 6]);
      expect(arr(pos.apply(tf.zeros([1, 2, 2])))).toEqual([1, 2, 3, 4]);
      expect(() => pos.apply(tf.zeros([1, 4, 2]))).toThrow(/sequence length 4 exceeds the 3 positions/);
      pos.dispose();
    });
  });

  describe('convolutions', () => {
    it('should convolve NHWC with same and valid padding and strides', () => {
      const c = new Conv2d('c', { inChannels: 1, outChannels: 1, kernel: 3 });
      set(c.weight, new Array(9).fill(1));
      set(c.bias!, [0.5]);
      const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
      expect(arr(c.apply(x))).toEqual([12, 21, 16, 27, 45, 33, 24, 39, 28].map((v) => v + 0.5));
      const valid = new Conv2d('v', { inChannels: 1, outChannels: 2, kernel: 2, stride: 1, padding: 'valid', bias: false });
      set(valid.weight, [1, 0, 0, 0, 0, 0, 0, 1]); // out0 = top-left tap, out1 = bottom-right tap
      expect(arr(valid.apply(x))).toEqual([1, 5, 2, 6, 4, 8, 5, 9]);
      expect(() => c.apply(tf.zeros([1, 3, 3, 2]))).toThrow(/NHWC \[B, H, W, 1\]/);
      c.dispose();
      valid.dispose();
    });

    it('should upsample with a transposed convolution', () => {
      const up = new ConvTranspose2d('up', { inChannels: 1, outChannels: 1, kernel: 2, stride: 2 });
      set(up.weight, [1, 1, 1, 1]);
      const y = up.apply(tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]));
      expect(y.shape).toEqual([1, 4, 4, 1]);
      expect(arr(y)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
      up.dispose();
    });

    it('should add the residual in ResConvBlock', () => {
      const r = new ResConvBlock('res', { channels: 1 });
      const identity = [0, 0, 0, 0, 1, 0, 0, 0, 0];
      set(r.conv1.weight, identity);
      set(r.conv2.weight, identity);
      const x = tf.tensor4d([-1, 2, -3, 4], [1, 2, 2, 1]);
      expect(arr(r.apply(x))).toEqual([-1, 4, -3, 8]); // x + relu(relu(x))
      r.dispose();
    });
  });

  describe('dropout', () => {
    it('should keep about 1−rate of the elements scaled by 1/(1−rate), reproducibly', () => {
      const x = tf.ones([1000]);
      const a = arr(dropout(x, 0.25, new Rng(4), true));
      const b = arr(dropout(x, 0.25, new Rng(4), true));
      expect(a).toEqual(b);
      const kept = a.filter((v) => v !== 0);
      expect(kept.length).toBeGreaterThan(700);
      expect(kept.length).toBeLessThan(800);
      expect(kept.every((v) => Math.abs(v - 4 / 3) < 1e-6)).toBe(true);
      expect(dropout(x, 0.25, new Rng(4), false)).toBe(x);
      expect(() => dropout(x, 1, new Rng(4), true)).toThrow(/rate must be in \[0, 1\)/);
    });
  });

  describe('crossEntropy', () => {
    it('should average −log p(target), optionally weighted', () => {
      const logits = tf.tensor2d([[0, 0], [Math.log(3), 0]]);
      const targets = tf.tensor1d([1, 0], 'int32');
      const expected = (Math.log(2) - Math.log(0.75)) / 2;
      expect(Math.abs(arr(crossEntropy(logits, targets))[0] - expected)).toBeLessThan(1e-6);
      const weighted = arr(crossEntropy(logits, targets, tf.tensor1d([0, 1])))[0];
      expect(Math.abs(weighted + Math.log(0.75))).toBeLessThan(1e-6);
    });

    it('should reject mismatched shapes and float targets', () => {
      const logits = tf.zeros([2, 3]);
      expect(() => crossEntropy(logits, tf.tensor1d([0, 1, 2], 'int32'))).toThrow(/targets must be \[2\]/);
      expect(() => crossEntropy(logits, tf.tensor1d([0, 1]))).toThrow(/targets must be int32/);
      expect(() => crossEntropy(tf.zeros([2, 3, 1]), tf.tensor1d([0, 1], 'int32'))).toThrow(/logits must be \[N, V\]/);
      expect(() => crossEntropy(logits, tf.tensor1d([0, 1], 'int32'), tf.ones([3]))).toThrow(/weights must be \[2\]/);
    });
  });
});

afterAll(() => undefined);
