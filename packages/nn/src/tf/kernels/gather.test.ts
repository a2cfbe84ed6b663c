import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectSameAsCpu, liveCounts, randomArray, setupBackends } from './test-helpers';

beforeAll(setupBackends);

describe('GatherV2 on wasm', () => {
  const cases: { shape: number[]; ids: number[]; idShape: number[]; axis: number }[] = [
    { shape: [6, 4], ids: [5, 0, 0, 3], idShape: [4], axis: 0 },
    { shape: [9, 3], ids: [1, 8, 2, 2, 0, 7], idShape: [2, 3], axis: 0 },
    { shape: [3, 5, 2], ids: [4, 0, 4], idShape: [3], axis: 1 },
    { shape: [2, 3, 4], ids: [3, 1], idShape: [1, 2], axis: 2 },
    { shape: [2, 3, 4], ids: [2, 0], idShape: [2], axis: -1 },
    { shape: [5], ids: [4, 4, 1], idShape: [3], axis: 0 },
  ];
  for (const c of cases) {
    it(`should match cpu for ${c.shape.join('×')} along axis ${c.axis} with ids ${JSON.stringify(c.ids)}`, () => {
      const xs = randomArray(c.shape.reduce((a, b) => a * b, 1), 41);
      expectSameAsCpu(() => [
        tf.gather(tf.tensor(xs, c.shape), tf.tensor(c.ids, c.idShape, 'int32'), c.axis),
        tf.gather(tf.cast(tf.mul(tf.tensor(xs, c.shape), 100), 'int32'), tf.tensor(c.ids, c.idShape, 'int32'), c.axis),
      ]);
    });
  }

  it('should keep batched gathers (batchDims 1) right through the stock kernel', () => {
    const xs = randomArray(2 * 5 * 3, 42);
    expectSameAsCpu(() => [tf.gather(tf.tensor3d(xs, [2, 5, 3]), tf.tensor2d([4, 0, 1, 1], [2, 2], 'int32'), 1, 1)]);
  });

  it('should reject an index outside the table with a clear error and leak nothing', () => {
    tf.setBackend('wasm');
    const table = tf.zeros([4, 3]);
    const before = liveCounts();
    expect(() => tf.tidy(() => tf.gather(table, tf.tensor1d([0, 4], 'int32')).dataSync())).toThrow(/index 4 .*outside \[0, 3\]/);
    expect(liveCounts()).toEqual(before);
    table.dispose();
  });
});
