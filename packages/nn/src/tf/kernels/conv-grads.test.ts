import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { liveCounts, onBackend, randomArray, relErr, setupBackends } from './test-helpers';

beforeAll(setupBackends);

type Case = { x: [number, number, number, number]; k: [number, number]; co: number; stride: number | [number, number]; pad: 'same' | 'valid' };
const cases: Case[] = [
  { x: [2, 5, 5, 3], k: [3, 3], co: 4, stride: 1, pad: 'same' },
  { x: [2, 8, 8, 3], k: [4, 4], co: 5, stride: 2, pad: 'same' },
  { x: [1, 7, 6, 2], k: [3, 2], co: 3, stride: [2, 1], pad: 'valid' },
  { x: [3, 9, 9, 4], k: [3, 3], co: 2, stride: 2, pad: 'valid' },
  { x: [2, 4, 4, 6], k: [1, 1], co: 3, stride: 1, pad: 'valid' },
  { x: [1, 7, 7, 2], k: [5, 5], co: 2, stride: 3, pad: 'same' },
  // strided input gradients by phase decomposition (size divisible by the stride)
  { x: [2, 6, 6, 3], k: [3, 3], co: 4, stride: 2, pad: 'same' },
  { x: [1, 8, 6, 2], k: [5, 5], co: 3, stride: 2, pad: 'same' },
  { x: [2, 9, 12, 2], k: [3, 3], co: 2, stride: 3, pad: 'valid' },
  { x: [1, 8, 8, 2], k: [2, 2], co: 3, stride: 2, pad: 'valid' },
  { x: [1, 4, 4, 2], k: [1, 1], co: 3, stride: 2, pad: 'valid' },
  { x: [2, 8, 6, 3], k: [4, 3], co: 2, stride: [2, 3], pad: 'same' },
];

describe('conv2d gradients on wasm (Conv2DBackpropFilter / Conv2DBackpropInput as forward convs)', () => {
  for (const c of cases) {
    it(`should match tfjs cpu for x ${c.x.join('×')}, kernel ${c.k.join('×')}, stride ${String(c.stride)}, ${c.pad}`, () => {
      const [kh, kw] = c.k;
      const ci = c.x[3];
      const xs = randomArray(c.x.reduce((a, b) => a * b, 1), 11);
      const ws = randomArray(kh * kw * ci * c.co, 12);
      const f = () => {
        const x = tf.tensor4d(xs, c.x);
        const w = tf.tensor4d(ws, [kh, kw, ci, c.co]);
        const y = tf.conv2d(x, w, c.stride, c.pad);
        const r = tf.tensor(randomArray(y.size, 13), y.shape);
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), r)),
        );
        const [dx, dw] = g([x, w]);
        return [y, dx!, dw!];
      };
      const cpu = onBackend('cpu', f);
      const wasm = onBackend('wasm', f);
      expect(wasm.shapes).toEqual(cpu.shapes);
      for (let i = 0; i < 3; i++) expect(relErr(wasm.data[i]!, cpu.data[i]!)).toBeLessThan(1e-5);
    });
  }

  it('should run conv2dTranspose (upsampling) and its gradients like cpu', () => {
    const xs = randomArray(2 * 4 * 4 * 3, 21);
    const ws = randomArray(4 * 4 * 5 * 3, 22);
    const f = () => {
      const x = tf.tensor4d(xs, [2, 4, 4, 3]);
      const w = tf.tensor4d(ws, [4, 4, 5, 3]); // [kh, kw, outChannels, inChannels]
      const up = (a: tf.Tensor, b: tf.Tensor) => tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, [2, 8, 8, 5], 2, 'same');
      const y = up(x, w);
      const r = tf.tensor(randomArray(y.size, 23), y.shape);
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(up(a, b), r)))([x, w]);
      return [y, dx!, dw!];
    };
    const cpu = onBackend('cpu', f);
    const wasm = onBackend('wasm', f);
    expect(wasm.shapes).toEqual(cpu.shapes);
    for (let i = 0; i < 3; i++) expect(relErr(wasm.data[i]!, cpu.data[i]!)).toBeLessThan(1e-5);
  });

  it('should leak no tensors or wasm buffers over repeated backward passes', () => {
    tf.setBackend('wasm');
    const x = tf.randomNormal([2, 8, 8, 3]);
    const w = tf.randomNormal([3, 3, 3, 4]);
    const step = () =>
      tf.tidy(() => {
        const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')))([x, w]);
        dx!.dataSync();
        dw!.dataSync();
      });
    step();
    const before = liveCounts();
    for (let i = 0; i < 3; i++) step();
    expect(liveCounts()).toEqual(before);
    tf.dispose([x, w]);
  });
});
