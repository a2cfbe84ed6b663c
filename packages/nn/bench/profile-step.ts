// Per-kernel CPU time of one reference-LM (or VQ-VAE) training step: node bench/run.mjs profile-step [lm|vq] [portable|fastest]
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
// Exclusive CPU time per kernel (process.cpuUsage: robust to other load on a shared machine), by wrapping
// every registered wasm kernel.
const by = new Map<string, { n: number; ms: number; shapes: Map<string, number> }>();
const stack: number[] = [];
let recording = false;
for (const config of tf.getKernelsForBackend('wasm')) {
  const inner = config.kernelFunc;
  tf.unregisterKernel(config.kernelName, 'wasm');
  tf.registerKernel({
    ...config,
    kernelFunc: (args) => {
      if (!recording) return inner(args);
      const c0 = process.cpuUsage();
      stack.push(0);
      const out = inner(args);
      const c = process.cpuUsage(c0);
      const total = (c.user + c.system) / 1000;
      const children = stack.pop()!;
      if (stack.length) stack[stack.length - 1]! += total;
      const e = by.get(config.kernelName) ?? { n: 0, ms: 0, shapes: new Map() };
      e.n++;
      e.ms += total - children;
      const key =
        Object.values(args.inputs).map((t) => JSON.stringify(t?.shape)).join(' ') +
        ('axis' in (args.attrs ?? {}) ? ` axis=${JSON.stringify(args.attrs!.axis)}` : '');
      e.shapes.set(key, (e.shapes.get(key) ?? 0) + total - children);
      by.set(config.kernelName, e);
      return out;
    },
  });
}
const c0 = process.cpuUsage();
const t0 = performance.now();
recording = true;
step();
recording = false;
const wall = performance.now() - t0;
const cu = process.cpuUsage(c0);
const total = [...by.values()].reduce((s, e) => s + e.ms, 0);
const count = [...by.values()].reduce((s, e) => s + e.n, 0);
console.log(
  `step: wall ${wall.toFixed(0)} ms, cpu ${((cu.user + cu.system) / 1000).toFixed(0)} ms; ${count} kernel calls, ${total.toFixed(0)} cpu-ms in kernels`,
);
for (const [name, e] of [...by.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, 25)) {
  const top = [...e.shapes.entries()].sort((a, b) => b[1] - a[1]).slice(0, 2).map(([s, ms]) => `${s}: ${ms.toFixed(0)}`);
  console.log(`${name.padEnd(24)} ${String(e.n).padStart(5)} ${e.ms.toFixed(1).padStart(8)} ms   ${top.join(' | ')}`);
}
