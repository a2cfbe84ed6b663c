import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectSameAsCpu, liveCounts, randomArray, setupBackends } from './test-helpers';

beforeAll(setupBackends);

describe('Tile on wasm', () => {
  const cases: { shape: number[]; reps: number[] }[] = [
    { shape: [], reps: [] },
    { shape: [5], reps: [3] },
    { shape: [2, 3], reps: [1, 1] },
    { shape: [2, 3], reps: [3, 2] },
    { shape: [4, 1, 3], reps: [1, 5, 1] },
    { shape: [2, 3, 1, 4], reps: [2, 1, 3, 2] },
    { shape: [2, 1, 2, 1, 3], reps: [1, 4, 2, 3, 1] },
    { shape: [3, 2], reps: [0, 2] },
  ];
  for (const c of cases) {
    it(`should match cpu for tile of ${c.shape.join('×') || 'a scalar'} by ${JSON.stringify(c.reps)} (float32, int32, bool)`, () => {
      const xs = randomArray(c.shape.reduce((a, b) => a * b, 1), 93);
      expectSameAsCpu(() => [
        tf.tile(tf.tensor(xs, c.shape), c.reps),
        tf.tile(tf.cast(tf.mul(tf.tensor(xs, c.shape), 100), 'int32'), c.reps),
        tf.cast(tf.tile(tf.greater(tf.tensor(xs, c.shape), 0), c.reps), 'int32'),
      ]);
    });
  }

  it('should broadcast with broadcastTo like cpu, with gradients', () => {
    const xs = randomArray(3 * 4, 94);
    const f = () => [tf.broadcastTo(tf.tensor3d(xs, [3, 1, 4]), [2, 3, 5, 4]), tf.grad((x: tf.Tensor) => tf.sum(tf.square(tf.broadcastTo(x, [2, 3, 5, 4]))))(tf.tensor3d(xs, [3, 1, 4]))];
    expectSameAsCpu(f);
  });
});

describe('Slice and SplitV on wasm', () => {
  const cases: { shape: number[]; begin: number[]; size: number[] }[] = [
    { shape: [7], begin: [2], size: [3] },
    { shape: [4, 5], begin: [1, 0], size: [2, 5] },
    { shape: [4, 5], begin: [1, 2], size: [3, -1] },
    { shape: [3, 4, 5], begin: [0, 1, 1], size: [3, 2, 3] },
    { shape: [2, 3, 3, 4, 5], begin: [1, 0, 2, 1, 0], size: [1, 3, 1, 2, 5] },
    { shape: [2, 3, 2, 3, 2, 4], begin: [0, 1, 0, 2, 1, 1], size: [2, 2, 2, 1, 1, 3] },
    { shape: [2, 3, 4], begin: [0, 0, 0], size: [2, 3, 4] },
  ];
  for (const c of cases) {
    it(`should match cpu for slice of ${c.shape.join('×')} at ${JSON.stringify(c.begin)} size ${JSON.stringify(c.size)}`, () => {
      const xs = randomArray(c.shape.reduce((a, b) => a * b, 1), 91);
      expectSameAsCpu(() => [
        tf.slice(tf.tensor(xs, c.shape), c.begin, c.size),
        tf.slice(tf.cast(tf.mul(tf.tensor(xs, c.shape), 100), 'int32'), c.begin, c.size),
      ]);
    });
  }

  it('should split a 5-D q/k/v projection like cpu, with gradients', () => {
    const xs = randomArray(2 * 4 * 3 * 2 * 8, 92);
    const f = () => {
      const x = tf.tensor(xs, [2, 4, 3, 2, 8]);
      const parts = tf.split(x, 3, 2);
      const g = tf.grad((a: tf.Tensor) => {
        const [q, k, v] = tf.split(a, [1, 1, 1], 2);
        return tf.sum(tf.mul(tf.mul(q!, 2), tf.add(k!, tf.mul(v!, 3))));
      })(x);
      return [...parts, g];
    };
    expectSameAsCpu(f);
  });

  it('should leak no tensors or buffers', () => {
    tf.setBackend('wasm');
    const x = tf.randomNormal([2, 3, 4, 5, 6]);
    const before = liveCounts();
    for (let i = 0; i < 3; i++) tf.tidy(() => void tf.split(x, [1, 2, 3], 4).map((t) => t.dataSync()));
    expect(liveCounts()).toEqual(before);
    x.dispose();
  });
});
