import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { liveCounts, maxAbsDiff, onBackend, randomArray, relErr, setupBackends } from './test-helpers';

beforeAll(setupBackends);

describe('Pow on wasm', () => {
  for (const e of [2, 3, 2.5]) {
    it(`should match cpu for x^${e} and its gradient`, () => {
      const xs = randomArray(6 * 7, 41).map((v) => v + 1.5); // positive so that x^2.5 is defined
      const f = () => {
        const x = tf.tensor2d(xs, [6, 7]);
        return [tf.pow(x, e), tf.grad((a: tf.Tensor) => tf.sum(tf.pow(a, e)))(x)];
      };
      const cpu = onBackend('cpu', f);
      const wasm = onBackend('wasm', f);
      for (let i = 0; i < 2; i++) expect(relErr(wasm.data[i]!, cpu.data[i]!)).toBeLessThan(1e-5);
    });
  }

  it('should broadcast a scalar exponent of higher rank', () => {
    const f = () => [tf.pow(tf.tensor1d([1, 2, 3]), tf.tensor2d([3], [1, 1]))];
    const wasm = onBackend('wasm', f);
    expect(wasm.shapes[0]).toEqual([1, 3]);
    expect(Array.from(wasm.data[0]!)).toEqual([1, 8, 27]);
  });
});

describe('Tanh on wasm', () => {
  it('should match cpu to 1e-6 over the whole range, with its gradient', () => {
    const xs = Float32Array.from([...randomArray(2000, 44)].map((v, i) => v * (i % 4 === 0 ? 20 : 4)).concat([0, -0, 9.5, -9.5, 1e-8, 30, -30]));
    const f = () => {
      const x = tf.tensor1d(xs);
      return [tf.tanh(x), tf.grad((a: tf.Tensor) => tf.sum(tf.tanh(a)))(x)];
    };
    const cpu = onBackend('cpu', f);
    const wasm = onBackend('wasm', f);
    for (let i = 0; i < 2; i++) expect(maxAbsDiff(wasm.data[i]!, cpu.data[i]!)).toBeLessThan(1e-6);
  });

  it('should keep NaN and saturate at ±Infinity', () => {
    const wasm = onBackend('wasm', () => [tf.tanh(tf.tensor1d([NaN, Infinity, -Infinity]))]);
    expect(Array.from(wasm.data[0]!)).toEqual([NaN, 1, -1]);
  });
});

describe('Sum on wasm', () => {
  const cases: { shape: number[]; axis: number | number[]; keepDims: boolean }[] = [
    { shape: [8, 5], axis: 0, keepDims: false },
    { shape: [4, 3, 5], axis: [0, 1], keepDims: false },
    { shape: [4, 3, 5], axis: [1, 0], keepDims: true },
    { shape: [4, 3, 5], axis: -1, keepDims: false },
    { shape: [4, 3, 5], axis: [0, 2], keepDims: false },
    { shape: [6], axis: 0, keepDims: false },
  ];
  for (const c of cases) {
    it(`should match cpu for shape ${c.shape.join('×')} over axis ${JSON.stringify(c.axis)}${c.keepDims ? ' (keepDims)' : ''}`, () => {
      const xs = randomArray(c.shape.reduce((a, b) => a * b, 1), 42);
      const f = () => [tf.sum(tf.tensor(xs, c.shape), c.axis, c.keepDims)];
      const cpu = onBackend('cpu', f);
      const wasm = onBackend('wasm', f);
      expect(wasm.shapes).toEqual(cpu.shapes);
      expect(relErr(wasm.data[0]!, cpu.data[0]!)).toBeLessThan(1e-5);
    });
  }

  it('should give Sum the gradient dy broadcast over the summed axes, the same bits as multiplying by ones', () => {
    const xs = randomArray(4 * 3 * 5 * 2, 43);
    const ws = randomArray(4 * 5, 44);
    for (const backend of ['wasm', 'cpu'] as const) {
      const ours = onBackend(backend, () => [tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.sum(x, [1, 3]), tf.tensor2d(ws, [4, 5]))))(tf.tensor4d(xs, [4, 3, 5, 2]))]);
      const byOnes = onBackend(backend, () => [tf.mul(tf.reshape(tf.tensor2d(ws, [4, 5]), [4, 1, 5, 1]), tf.ones([4, 3, 5, 2]))]);
      expect(ours.shapes[0]).toEqual([4, 3, 5, 2]);
      expect(Array.from(ours.data[0]!)).toEqual(Array.from(byOnes.data[0]!));
    }
  });

  it('should leak no tensors or buffers', () => {
    tf.setBackend('wasm');
    const x = tf.randomNormal([16, 8]);
    const before = liveCounts();
    for (let i = 0; i < 3; i++) tf.tidy(() => void tf.sum(tf.pow(x, 3), 0).dataSync());
    expect(liveCounts()).toEqual(before);
    x.dispose();
  });
});
