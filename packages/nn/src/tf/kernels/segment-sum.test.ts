import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { scatterAdd } from './segment-sum';
import { liveCounts, maxAbsDiff, onBackend, randomArray, relErr, setupBackends } from './test-helpers';

beforeAll(setupBackends);

describe('UnsortedSegmentSum (wasm)', () => {
  it('should match tfjs cpu, dropping out-of-range ids', () => {
    const x = randomArray(7 * 5, 1);
    const ids = [3, 0, 3, -1, 9, 1, 3];
    const f = () => [tf.unsortedSegmentSum(tf.tensor2d(x, [7, 5]), tf.tensor1d(ids, 'int32'), 6)];
    const cpu = onBackend('cpu', f);
    const wasm = onBackend('wasm', f);
    expect(wasm.shapes[0]).toEqual([6, 5]);
    expect(maxAbsDiff(wasm.data[0]!, cpu.data[0]!)).toBeLessThan(1e-6);
  });

  it('should sum int32 values and higher-rank rows', () => {
    const f = () => [
      tf.unsortedSegmentSum(tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [4, 1, 2], 'int32'), tf.tensor1d([1, 1, 0, 1], 'int32'), 2),
    ];
    const wasm = onBackend('wasm', f);
    expect(wasm.shapes[0]).toEqual([2, 1, 2]);
    expect(Array.from(wasm.data[0]!)).toEqual([5, 6, 1 + 3 + 7, 2 + 4 + 8]);
  });

  it('should give gather its gradient on wasm, matching cpu', () => {
    const table = randomArray(50 * 8, 2);
    const ids = [4, 4, 0, 49, 7, 4, 0, 3, 3, 1, 2, 4];
    const weights = randomArray(ids.length * 8, 3);
    const f = () => {
      const t = tf.tensor2d(table, [50, 8]);
      const g = tf.grad((tt: tf.Tensor) => tf.sum(tf.mul(tf.gather(tt, tf.tensor2d(ids, [3, 4], 'int32')), tf.tensor3d(weights, [3, 4, 8]))));
      return [g(t)];
    };
    const cpu = onBackend('cpu', f);
    const wasm = onBackend('wasm', f);
    expect(relErr(wasm.data[0]!, cpu.data[0]!)).toBeLessThan(1e-5);
  });

  it('should reject segment ids that do not fit x with a clear error and leak nothing', () => {
    tf.setBackend('wasm');
    const before = liveCounts();
    expect(() =>
      tf.tidy(() => tf.unsortedSegmentSum(tf.zeros([4, 3]), tf.tensor1d([0, 1, 2], 'int32'), 3)),
    ).toThrow(/segmentIds|segment ids/);
    expect(liveCounts()).toEqual(before);
  });

  it('should leak no tensors or buffers', () => {
    tf.setBackend('wasm');
    const x = tf.randomNormal([10, 4]);
    const ids = tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 9], 'int32');
    const before = liveCounts();
    for (let i = 0; i < 3; i++) tf.tidy(() => {
      tf.unsortedSegmentSum(x, ids, 3).dataSync();
    });
    expect(liveCounts()).toEqual(before);
    tf.dispose([x, ids]);
  });
});

describe('scatterAdd', () => {
  it('should add rows into their segments', () => {
    const out = new Float32Array(4);
    scatterAdd([1, 2, 3, 4, 5, 6], [1, -3, 1], 2, out);
    expect(Array.from(out)).toEqual([0, 0, 6, 8]);
  });
});
