import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../tf/backend';
import { AdamW } from './adamw';
import { clipByGlobalNorm, globalNormScale } from './clip';

describe.each([
  ['wasm', true],
  ['wasm', false],
  ['cpu', true],
  ['cpu', false],
] as const)('AdamW on %s (fused %s)', (backend, fused) => {
  beforeAll(async () => {
    await initBackend({ backend });
  });

  it('should match a hand-computed update with bias correction, gradient scaling and decoupled weight decay', () => {
    const w = tf.variable(tf.tensor2d([[1, -2]]));
    const b = tf.variable(tf.tensor1d([0.5]));
    const opt = new AdamW(new Map<string, tf.Variable>([['w', w], ['b', b]]), { lr: 0.1, weightDecay: 0.5, fused });
    const grads = [[0.2, -0.4], [1]];
    // reference in float64
    const ref = { w: [1, -2], b: [0.5] };
    const m = { w: [0, 0], b: [0] };
    const v = { w: [0, 0], b: [0] };
    for (let t = 1; t <= 2; t++) {
      tf.tidy(() => opt.apply([tf.mul(tf.tensor2d([grads[0]]), 2), tf.mul(tf.tensor1d(grads[1]), 2)], 0.1, 0.5));
      (['w', 'b'] as const).forEach((k, ki) => {
        ref[k] = ref[k].map((p, i) => {
          const g = grads[ki][i];
          m[k][i] = 0.9 * m[k][i] + 0.1 * g;
          v[k][i] = 0.999 * v[k][i] + 0.001 * g * g;
          const mh = m[k][i] / (1 - 0.9 ** t);
          const vh = v[k][i] / (1 - 0.999 ** t);
          return p - 0.1 * (mh / (Math.sqrt(vh) + 1e-8) + (k === 'w' ? 0.5 * p : 0));
        });
      });
    }
    expect(opt.t).toBe(2);
    [...w.dataSync()].forEach((x, i) => expect(x).toBeCloseTo(ref.w[i], 5));
    [...b.dataSync()].forEach((x, i) => expect(x).toBeCloseTo(ref.b[i], 5));
    expect([...opt.stateTensors().keys()]).toEqual(['w.adam_m', 'w.adam_v', 'b.adam_m', 'b.adam_v']);
    opt.dispose();
    tf.dispose([w, b]);
  });
});

describe('clipByGlobalNorm', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('should scale all gradients by maxNorm/‖g‖ only when the norm is larger', () => {
    tf.tidy(() => {
      const g = [tf.tensor1d([3]), tf.tensor1d([4])]; // norm 5
      const clipped = clipByGlobalNorm(g, 1);
      expect(clipped.norm.dataSync()[0]).toBeCloseTo(5, 6);
      expect(clipped.grads.map((x) => x.dataSync()[0])).toEqual([expect.closeTo(0.6, 5), expect.closeTo(0.8, 5)]);
      expect(clipByGlobalNorm(g, 10).grads.map((x) => x.dataSync()[0])).toEqual([3, 4]);
      expect(clipByGlobalNorm(g, 0).grads).toBe(g);
      expect(globalNormScale(g, 1)).toEqual({ norm: 5, scale: expect.closeTo(0.2, 6) });
      expect(globalNormScale(g, 0).scale).toBe(1);
    });
  });
});
