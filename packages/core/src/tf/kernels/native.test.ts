import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { fastKernelStatus, nativeAddonPath, registerFastKernels } from './index';
import { liveCounts, onBackend, randomArray, relErr, setupBackends } from './test-helpers';

const addon = nativeAddonPath();
if (!addon) {
  console.log('native.test: skipped — the optional native addon is not built (npm run build:native -w @synth2/core; needs libopenblas-dev)');
}

describe.skipIf(!addon)('native kernels (OpenBLAS on the wasm heap)', () => {
  beforeAll(async () => {
    await setupBackends();
    await registerFastKernels('wasm', { native: true, threads: 2 });
  });

  it('should report that the native path is active', () => {
    expect(fastKernelStatus().native).toBe(true);
    expect(fastKernelStatus().kernels).toContain('native:sgemm');
  });

  const cases = [
    { a: [6, 5], b: [5, 7], tA: false, tB: false },
    { a: [5, 6], b: [7, 5], tA: true, tB: true },
    { a: [2, 3, 6, 5], b: [2, 3, 7, 5], tA: false, tB: true },
    { a: [4, 6, 5], b: [5, 3], tA: false, tB: false },
    { a: [6, 5], b: [4, 5, 3], tA: false, tB: false },
    { a: [2, 1, 6, 5], b: [1, 3, 5, 4], tA: false, tB: false },
  ];
  for (const c of cases) {
    it(`should match cpu for matMul ${JSON.stringify(c)} forward and backward`, () => {
      const as = randomArray(c.a.reduce((x, y) => x * y, 1), 51);
      const bs = randomArray(c.b.reduce((x, y) => x * y, 1), 52);
      const f = () => {
        const a = tf.tensor(as, c.a);
        const b = tf.tensor(bs, c.b);
        const y = tf.matMul(a, b, c.tA, c.tB);
        const r = tf.tensor(randomArray(y.size, 53), y.shape);
        const [da, db] = tf.grads((x: tf.Tensor, z: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, z, c.tA, c.tB), r)))([a, b]);
        return [y, da!, db!];
      };
      const cpu = onBackend('cpu', f);
      const wasm = onBackend('wasm', f);
      expect(wasm.shapes).toEqual(cpu.shapes);
      for (let i = 0; i < 3; i++) expect(relErr(wasm.data[i]!, cpu.data[i]!)).toBeLessThan(1e-5);
    });
  }

  it('should compute tanh like cpu (to 1e-6) and keep its gradient', () => {
    const xs = randomArray(1000, 54).map((v) => v * 8);
    const f = () => {
      const x = tf.tensor1d(xs);
      return [tf.tanh(x), tf.grad((a: tf.Tensor) => tf.sum(tf.tanh(a)))(x)];
    };
    const cpu = onBackend('cpu', f);
    const wasm = onBackend('wasm', f);
    for (let i = 0; i < 2; i++) expect(relErr(wasm.data[i]!, cpu.data[i]!)).toBeLessThan(1e-6);
  });

  it('should leak no tensors or wasm buffers', () => {
    tf.setBackend('wasm');
    const a = tf.randomNormal([3, 8, 4]);
    const b = tf.randomNormal([3, 8, 4]);
    const step = () =>
      tf.tidy(() => {
        const [da] = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.tanh(tf.matMul(x, y, false, true))))([a, b]);
        da!.dataSync();
      });
    step();
    const before = liveCounts();
    for (let i = 0; i < 3; i++) step();
    expect(liveCounts()).toEqual(before);
    tf.dispose([a, b]);
  });
});
