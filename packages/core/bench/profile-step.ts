// Per-kernel time of one reference-LM (or VQ-VAE) training step: node bench/run.mjs profile-step [lm|vq] [portable|fastest]
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-wasm';
import { registerFastKernels } from '../src/tf/kernels/index';
import { createLm, createVqVae, REFERENCE_LM, REFERENCE_VQ } from './reference-models';

const [model = 'lm', mode = 'portable'] = process.argv.slice(2);
await tf.setBackend('wasm');
await tf.ready();
await registerFastKernels('wasm', { native: mode === 'fastest' });
const m = model === 'lm' ? createLm(REFERENCE_LM) : createVqVae(REFERENCE_VQ);
const lossFn =
  model === 'lm'
    ? () => {
        const lm = m as ReturnType<typeof createLm>;
        const { ids, targets } = lm.batch(0);
        return lm.loss(ids, targets);
      }
    : () => {
        const vq = m as ReturnType<typeof createVqVae>;
        return vq.loss(vq.images(0));
      };
const opt = tf.train.adam(1e-3);
const step = () =>
  tf.tidy(() => {
    const { value, grads } = tf.variableGrads(lossFn, m.params);
    opt.applyGradients(grads as unknown as Record<string, tf.Variable>);
    value.dataSync();
  });
step();
const t0 = performance.now();
step();
const wall = performance.now() - t0;
const info = await tf.profile(step);
const by = new Map<string, { n: number; ms: number; shapes: Map<string, number> }>();
for (const k of info.kernels) {
  const e = by.get(k.name) ?? { n: 0, ms: 0, shapes: new Map() };
  e.n++;
  const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  e.ms += ms;
  const key = k.inputShapes.map((s) => JSON.stringify(s)).join(' ');
  e.shapes.set(key, (e.shapes.get(key) ?? 0) + ms);
  by.set(k.name, e);
}
const total = [...by.values()].reduce((s, e) => s + e.ms, 0);
console.log(`step wall ${wall.toFixed(0)} ms; kernels ${info.kernels.length}, kernel time ${total.toFixed(0)} ms`);
for (const [name, e] of [...by.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) {
  const top = [...e.shapes.entries()].sort((a, b) => b[1] - a[1]).slice(0, 2).map(([s, ms]) => `${s}: ${ms.toFixed(0)}`);
  console.log(`${name.padEnd(24)} ${String(e.n).padStart(5)} ${e.ms.toFixed(1).padStart(8)} ms   ${top.join(' | ')}`);
}
