// Per-kernel CPU time of one training step: node bench/run.mjs profile-step [lm|vq|generator] [portable|fastest]
// lm: the reference LM (Adam); vq: the reference VQ-VAE; generator: @synth2/generator's demo generator (its real
// model code and batch tensors, AdamW). portable: no native addon; fastest: the default path (initBackend()).
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/index';
import { generatorStep, lmStep } from './engine-workloads';
import { createVqVae, REFERENCE_VQ } from './reference-models';

const [model = 'lm', mode = 'portable'] = process.argv.slice(2);
const info = await initBackend(mode === 'fastest' ? {} : { backend: 'wasm', native: false });
console.log(`backend ${info.name}${info.native ? ' + native' : ''}: ${info.kernels.length} kernels`);

function vqStep(): () => number {
  const m = createVqVae(REFERENCE_VQ);
  const opt = tf.train.adam(1e-3);
  return () =>
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => m.loss(m.images(0)), m.params);
      opt.applyGradients(grads as unknown as Record<string, tf.Variable>);
      return value.dataSync()[0]!;
    });
}
const steps: Record<string, () => () => number> = { lm: lmStep, vq: vqStep, generator: generatorStep };
if (!steps[model]) throw new Error(`profile-step: unknown model ${model}; use ${Object.keys(steps).join(', ')}`);
const step = steps[model]!();
step();
step();
// Exclusive CPU time per kernel (process.cpuUsage: robust to other load on a shared machine), by wrapping
// every registered wasm kernel.
const by = new Map<string, { n: number; ms: number; shapes: Map<string, number> }>();
const stack: number[] = [];
let recording = false;
for (const config of tf.getKernelsForBackend(tf.getBackend())) {
  const inner = config.kernelFunc;
  tf.unregisterKernel(config.kernelName, config.backendName);
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
