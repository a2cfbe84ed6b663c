import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUSED_ATTENTION, fusedAttention, fusedAttentionActive } from './fused-attention';
import { fusedCrossEntropy, fusedCrossEntropyActive } from './fused-cross-entropy';
import { fusedGelu, fusedGeluActive } from './fused-gelu';
import { fusedLayerNorm, fusedLayerNormActive } from './fused-layer-norm';
import { registerFusedOps } from './fused-ops';
import { fusedNative } from './fused-common';
import { fastKernelStatus } from './index';
import { loadNativeKernels } from './native-addon';
import { getNative, setNative } from './native-state';
import { liveCounts, onBackend, randomArray, relErr, setupBackends } from './test-helpers';

beforeAll(async () => {
  await setupBackends();
  registerFusedOps('cpu', true, []);
});

/** The unfused tfjs composition of MultiHeadAttention's core (as in nn/attention.ts). */
function attentionComposition(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, heads: number, causal: boolean, keyMask?: tf.Tensor): tf.Tensor {
  const [b, tq, d] = q.shape as [number, number, number];
  const tk = k.shape[1]!;
  const hd = d / heads;
  const split = (t: tf.Tensor, len: number) => tf.reshape(tf.transpose(tf.reshape(t, [b, len, heads, hd]), [0, 2, 1, 3]), [b * heads, len, hd]);
  let scores = tf.matMul(split(tf.mul(q, 1 / Math.sqrt(hd)), tq), tf.transpose(split(k, tk), [0, 2, 1]));
  scores = tf.reshape(scores, [b, heads, tq, tk]);
  if (causal) {
    const m = new Float32Array(tq * tk);
    for (let i = 0; i < tq; i++) for (let j = i + 1; j < tk; j++) m[i * tk + j] = -1e9;
    scores = tf.add(scores, tf.tensor2d(m, [tq, tk]));
  }
  if (keyMask) scores = tf.add(scores, tf.reshape(tf.mul(tf.sub(1, keyMask), -1e9), [b, 1, 1, tk]));
  const out = tf.matMul(tf.softmax(tf.reshape(scores, [b * heads, tq, tk])), split(v, tk));
  return tf.reshape(tf.transpose(tf.reshape(out, [b, heads, tq, hd]), [0, 2, 1, 3]), [b, tq, d]);
}

/** Value and gradients of Σ f(inputs)·r for a fixed random r. */
function valueAndGrads(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], seed: number): tf.Tensor[] {
  const y = f(...xs);
  const r = tf.tensor(randomArray(y.size, seed), y.shape);
  const g = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(...a), r)))(xs);
  return [y, ...g];
}

function expectClose(actual: { data: Float32Array[] }, expected: { data: Float32Array[] }, tol = 1e-5): void {
  expect(actual.data.length).toBe(expected.data.length);
  for (let i = 0; i < expected.data.length; i++) expect(relErr(actual.data[i]!, expected.data[i]!), `output ${i}`).toBeLessThan(tol);
}

const addon = loadNativeKernels().addon;
const hasFused = !!addon && typeof (addon as unknown as { attentionForward?: unknown }).attentionForward === 'function';
if (!hasFused) console.log('fused-ops.test: the native addon with fused ops is not built; its cases are skipped (npm run build:native -w @synth2/nn)');

for (const mode of ['portable', 'native'] as const) {
  describe.skipIf(mode === 'native' && !hasFused)(`fused ops (${mode} on wasm)`, () => {
    let before: ReturnType<typeof getNative>;
    beforeAll(() => {
      before = getNative();
      setNative(mode === 'native' ? addon : null);
      expect(fusedNative() !== null).toBe(mode === 'native');
    });
    afterAll(() => setNative(before));
    describe('fused attention', () => {
      const cases = [
        { name: 'cross-attention with a key mask', B: 3, Tq: 5, Tk: 7, H: 3, hd: 5, causal: false, mask: true },
        { name: 'causal self-attention', B: 2, Tq: 6, Tk: 6, H: 2, hd: 7, causal: true, mask: false },
        { name: 'causal with a key mask, one head', B: 2, Tq: 4, Tk: 4, H: 1, hd: 3, causal: true, mask: true },
      ];
      for (const c of cases) {
        it(`should match the tfjs composition forward and backward: ${c.name}`, () => {
          const d = c.H * c.hd;
          const make = () => {
            const q = tf.tensor3d(randomArray(c.B * c.Tq * d, 1).map((x) => 2 * x), [c.B, c.Tq, d]);
            const k = tf.tensor3d(randomArray(c.B * c.Tk * d, 2).map((x) => 2 * x), [c.B, c.Tk, d]);
            const v = tf.tensor3d(randomArray(c.B * c.Tk * d, 3), [c.B, c.Tk, d]);
            // every row keeps its first key; others are dropped at random
            const m = c.mask ? tf.tensor2d(randomArray(c.B * c.Tk, 4).map((x, i) => (i % c.Tk === 0 || x > -0.3 ? 1 : 0)), [c.B, c.Tk]) : undefined;
            return { q, k, v, m };
          };
          const reference = onBackend('cpu', () => {
            const { q, k, v, m } = make();
            return valueAndGrads((a, b, e) => attentionComposition(a, b, e, c.H, c.causal, m), [q, k, v], 9);
          });
          for (const backend of ['cpu', 'wasm'] as const) {
            const fused = onBackend(backend, () => {
              expect(fusedAttentionActive()).toBe(backend === 'cpu' || mode === 'native');
              const { q, k, v, m } = make();
              return valueAndGrads((a, b, e) => fusedAttention(a, b, e, { heads: c.H, causal: c.causal, keyMask: m }), [q, k, v], 9);
            });
            expectClose(fused, reference);
          }
        });
      }

      it('should free its intermediate tensors', () => {
        onBackend('wasm', () => {
          const q = tf.ones([2, 3, 4]);
          const before = liveCounts();
          tf.dispose(tf.grads((a: tf.Tensor) => tf.sum(fusedAttention(a, a, a, { heads: 2 })))([q]));
          expect(liveCounts()).toEqual(before);
          return [];
        });
      });

      it('should be registered by registerFastKernels with its gradient', () => {
        expect(fastKernelStatus().kernels).toContain(`wasm:${FUSED_ATTENTION}`);
        expect(fastKernelStatus().kernels).toContain(`grad:${FUSED_ATTENTION}`);
      });
    });

    describe('fused LayerNorm', () => {
      it('should match the tfjs composition forward and backward on odd shapes', () => {
        for (const [shape, seed] of [
          [[3, 5, 7], 11],
          [[13, 33], 12],
        ] as [number[], number][]) {
          const d = shape[shape.length - 1]!;
          const make = () => [
            tf.tensor(randomArray(shape.reduce((a, b) => a * b), seed).map((x, i) => 3 * x + (i % 5)), shape),
            tf.tensor1d(randomArray(d, seed + 1).map((x) => 1 + x)),
            tf.tensor1d(randomArray(d, seed + 2)),
          ];
          const composition = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
            const mean = tf.mean(x, -1, true);
            const centered = tf.sub(x, mean);
            const variance = tf.mean(tf.square(centered), -1, true);
            return tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, 1e-5))), g), b);
          };
          const reference = onBackend('cpu', () => valueAndGrads(composition, make(), 5));
          for (const backend of ['cpu', 'wasm'] as const) {
            const fused = onBackend(backend, () => {
              expect(fusedLayerNormActive()).toBe(true);
              return valueAndGrads((x, g, b) => fusedLayerNorm(x, g, b, 1e-5), make(), 5);
            });
            expectClose(fused, reference);
          }
        }
      });
    });

    describe('fused GELU', () => {
      it('should match the tfjs composition forward and backward over a wide range', () => {
        const xs = Float32Array.from([...randomArray(3 * 5 * 37, 31)].map((v, i) => v * (i % 3 === 0 ? 12 : 3)).concat([0, 1e-6, -1e-6, 20, -20]));
        const composition = (x: tf.Tensor) => {
          const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
          return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
        };
        const make = () => [tf.tensor1d(xs)];
        const reference = onBackend('cpu', () => valueAndGrads(composition, make(), 32));
        for (const backend of ['cpu', 'wasm'] as const) {
          const fused = onBackend(backend, () => {
            expect(fusedGeluActive()).toBe(true);
            return valueAndGrads((x) => fusedGelu(x), make(), 32);
          });
          expectClose(fused, reference);
        }
      });
    });

    describe('fused cross-entropy', () => {
      it('should match the tfjs composition (logSoftmax · oneHot, weighted mean) with gradients for logits and weights', () => {
        const [n, v] = [11, 37];
        const make = () => [
          tf.tensor2d(randomArray(n * v, 21).map((x) => 4 * x), [n, v]),
          tf.tensor1d(randomArray(n, 22).map((x) => Math.floor((x + 1) * 18.5)), 'int32'),
          tf.tensor1d(randomArray(n, 23).map((x, i) => (i === 3 ? 0 : x + 1.2))),
        ];
        const composition = (logits: tf.Tensor, targets: tf.Tensor, w: tf.Tensor) => {
          const picked = tf.sum(tf.mul(tf.logSoftmax(logits), tf.cast(tf.oneHot(targets as tf.Tensor1D, v), 'float32')), 1);
          return tf.neg(tf.div(tf.sum(tf.mul(picked, w)), tf.maximum(tf.sum(w), 1e-12)));
        };
        const run = (f: typeof composition) => () => {
          const [logits, targets, w] = make();
          const loss = f(logits!, targets!, w!);
          const [gl, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.mul(f(a, targets!, b), 1.7))([logits!, w!]);
          return [loss, gl!, gw!];
        };
        const reference = onBackend('cpu', run(composition));
        for (const backend of ['cpu', 'wasm'] as const) {
          const fused = onBackend(backend, () => {
            expect(fusedCrossEntropyActive()).toBe(true);
            return run((a, b, c) => fusedCrossEntropy(a, b, c))();
          });
          expectClose(fused, reference);
        }
      });
    });
  });
}
