import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { liveCounts, onBackend, randomArray, relErr, setupBackends } from './test-helpers';

beforeAll(setupBackends);

type Case = { a: number[]; b: number[]; tA: boolean; tB: boolean; what: string };
const cases: Case[] = [
  { a: [6, 5], b: [5, 7], tA: false, tB: false, what: '2-D' },
  { a: [6, 5], b: [7, 5], tA: false, tB: true, what: '2-D, transposeB' },
  { a: [5, 6], b: [5, 7], tA: true, tB: false, what: '2-D, transposeA' },
  { a: [5, 6], b: [7, 5], tA: true, tB: true, what: '2-D, both transposed' },
  { a: [4, 6, 5], b: [4, 5, 3], tA: false, tB: false, what: 'batched (attention)' },
  { a: [2, 3, 6, 5], b: [2, 3, 7, 5], tA: false, tB: true, what: '4-D batched, q·kᵀ' },
  { a: [2, 3, 5, 6], b: [2, 3, 5, 4], tA: true, tB: false, what: '4-D batched, transposeA' },
  { a: [4, 6, 5], b: [5, 3], tA: false, tB: false, what: 'batch × shared matrix (linear layer)' },
  { a: [4, 6, 5], b: [3, 5], tA: false, tB: true, what: 'batch × shared matrix, transposeB' },
  { a: [6, 5], b: [4, 5, 3], tA: false, tB: false, what: 'shared matrix × batch' },
  { a: [2, 1, 6, 5], b: [1, 3, 5, 4], tA: false, tB: false, what: 'two-sided broadcast (fallback)' },
];

function swapLast(t: tf.Tensor): tf.Tensor {
  const p = [...Array(t.rank).keys()];
  [p[t.rank - 2], p[t.rank - 1]] = [p[t.rank - 1]!, p[t.rank - 2]!];
  return tf.transpose(t, p);
}

/** Σ over broadcast dims back to `shape`. */
function reduceTo(g: tf.Tensor, shape: number[]): tf.Tensor {
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank - 2; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  return tf.reshape(axes.length ? tf.sum(g, axes) : g, shape);
}

describe('BatchMatMul on wasm (forward and gradient)', () => {
  for (const c of cases) {
    it(`should match the reference for ${c.what}`, () => {
      const as = randomArray(c.a.reduce((x, y) => x * y, 1), 31);
      const bs = randomArray(c.b.reduce((x, y) => x * y, 1), 32);
      // reference on cpu: forward with tfjs's cpu matMul, gradients written out by hand
      const ref = onBackend('cpu', () => {
        const a = tf.tensor(as, c.a);
        const b = tf.tensor(bs, c.b);
        const opA = c.tA ? swapLast(a) : a;
        const opB = c.tB ? swapLast(b) : b;
        const y = tf.matMul(opA, opB);
        const r = tf.tensor(randomArray(y.size, 33), y.shape);
        const dOpA = tf.matMul(r, swapLast(opB));
        const dOpB = tf.matMul(swapLast(opA), r);
        return [y, reduceTo(c.tA ? swapLast(dOpA) : dOpA, c.a), reduceTo(c.tB ? swapLast(dOpB) : dOpB, c.b)];
      });
      for (const backend of ['wasm', 'cpu'] as const) {
        const got = onBackend(backend, () => {
          const a = tf.tensor(as, c.a);
          const b = tf.tensor(bs, c.b);
          const y = tf.matMul(a, b, c.tA, c.tB);
          const r = tf.tensor(randomArray(y.size, 33), y.shape);
          const [da, db] = tf.grads((x: tf.Tensor, z: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, z, c.tA, c.tB), r)))([a, b]);
          return [y, da!, db!];
        });
        expect(got.shapes).toEqual(ref.shapes);
        for (let i = 0; i < 3; i++) expect(relErr(got.data[i]!, ref.data[i]!), `${backend} output ${i}`).toBeLessThan(1e-5);
      }
    });
  }

  it('should leak no tensors or wasm buffers (views on the heap included)', () => {
    tf.setBackend('wasm');
    const q = tf.randomNormal([2, 4, 8, 16]);
    const k = tf.randomNormal([2, 4, 8, 16]);
    const w = tf.randomNormal([16, 16]);
    const step = () =>
      tf.tidy(() => {
        const [dq, dk, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
          tf.sum(tf.matMul(tf.matMul(a, b, false, true), tf.matMul(b, c))),
        )([q, k, w]);
        dq!.dataSync();
        dk!.dataSync();
        dw!.dataSync();
      });
    step();
    const before = liveCounts();
    for (let i = 0; i < 3; i++) step();
    expect(liveCounts()).toEqual(before);
    tf.dispose([q, k, w]);
  });

  it('should reject mismatched inner dimensions with a message naming the shapes', () => {
    tf.setBackend('wasm');
    expect(() => tf.tidy(() => tf.matMul(tf.zeros([2, 3, 4]), tf.zeros([2, 5, 6])))).toThrow(/inner/);
  });
});
