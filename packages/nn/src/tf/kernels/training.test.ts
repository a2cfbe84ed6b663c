import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { fastKernelStatus, nativeAddonPath, registerFastKernels } from './index';
import { liveCounts, randomArray, relErr, setupBackends } from './test-helpers';

beforeAll(setupBackends);

/** A tiny model touching every replaced kernel: gather, 2-D/batched/transposed matMuls, pow, tanh, conv, conv-transpose. */
function trainTiny(backend: 'cpu' | 'wasm', steps: number): Float32Array[] {
  tf.setBackend(backend);
  const vars = {
    emb: tf.variable(tf.tensor2d(randomArray(20 * 8, 81), [20, 8])),
    w: tf.variable(tf.tensor2d(randomArray(8 * 8, 82), [8, 8])),
    k1: tf.variable(tf.tensor4d(randomArray(3 * 3 * 2 * 4, 83), [3, 3, 2, 4])),
    k2: tf.variable(tf.tensor4d(randomArray(4 * 4 * 2 * 4, 84), [4, 4, 2, 4])),
  };
  const ids = tf.tensor2d([1, 5, 5, 19, 0, 3, 3, 7, 1, 2], [2, 5], 'int32');
  const img = tf.tensor4d(randomArray(2 * 6 * 6 * 2, 85), [2, 6, 6, 2]);
  const opt = tf.train.adam(0.05);
  const before = liveCounts();
  for (let s = 0; s < steps; s++) {
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => {
        const h = tf.tanh(tf.matMul(tf.reshape(tf.gather(vars.emb, ids), [10, 8]), vars.w));
        const g = tf.reshape(tf.mul(0.5, tf.pow(h, 3)), [2, 5, 8]);
        const att = tf.matMul(tf.softmax(tf.matMul(g, g, false, true)), g);
        const z = tf.conv2d(img, vars.k1 as tf.Tensor4D, 2, 'same');
        const up = tf.conv2dTranspose(tf.relu(z) as tf.Tensor4D, vars.k2 as tf.Tensor4D, [2, 6, 6, 2], 2, 'same');
        return tf.add(tf.mean(tf.square(tf.sub(att, 0.1))), tf.mean(tf.square(tf.sub(up, img)))) as tf.Scalar;
      }, Object.values(vars));
      opt.applyGradients(grads as unknown as Record<string, tf.Variable>);
    });
  }
  const out = Object.values(vars).map((v) => v.dataSync() as Float32Array);
  opt.dispose();
  tf.dispose([ids, img, ...Object.values(vars)]);
  expect(liveCounts().tensors).toBeLessThanOrEqual(before.tensors);
  return out;
}

const addonBuilt = nativeAddonPath() !== null;
if (!addonBuilt) console.log('training.test: the native addon is not built; its path is skipped (npm install builds it)');

for (const path of ['portable', 'native'] as const) {
  describe.skipIf(path === 'native' && !addonBuilt)(`training with the fast kernels (${path} wasm)`, () => {
    beforeAll(async () => {
      await registerFastKernels('wasm', { native: path === 'native' });
      expect(fastKernelStatus().native).toBe(path === 'native');
    });

    it('should give the same parameters after 5 Adam steps on wasm as on cpu, leaking nothing', () => {
      const cpu = trainTiny('cpu', 5);
      const wasm = trainTiny('wasm', 5);
      for (let i = 0; i < cpu.length; i++) expect(relErr(wasm[i]!, cpu[i]!)).toBeLessThan(1e-4);
    });
  });
}
