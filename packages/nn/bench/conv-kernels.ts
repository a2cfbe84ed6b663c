// Conv kernels on the reference VQ-VAE's shapes, timed in CPU milliseconds (robust to other load on a shared
// machine): node bench/run.mjs conv-kernels [portable|fastest]
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-wasm';
import { registerFastKernels } from '../src/tf/kernels/index';

await tf.setBackend('wasm');
await tf.ready();
await registerFastKernels('wasm', { native: process.argv[2] === 'fastest' });

function cpuMs(f: () => void, reps: number): number {
  f();
  const c0 = process.cpuUsage();
  for (let i = 0; i < reps; i++) f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / reps;
}

const shapes: { x: [number, number, number, number]; k: number; co: number; s: number }[] = [
  { x: [64, 32, 32, 3], k: 4, co: 64, s: 2 },
  { x: [64, 16, 16, 64], k: 4, co: 128, s: 2 },
  { x: [64, 8, 8, 128], k: 3, co: 128, s: 1 },
  { x: [64, 8, 8, 64], k: 3, co: 128, s: 1 },
  { x: [64, 32, 32, 32], k: 3, co: 3, s: 1 },
];
const results: Record<string, unknown>[] = [];
for (const sh of shapes) {
  const x = tf.randomNormal(sh.x) as tf.Tensor4D;
  const y = tf.conv2d(x, tf.zeros([sh.k, sh.k, sh.x[3], sh.co]) as tf.Tensor4D, sh.s, 'same');
  const dy = tf.randomNormal(y.shape) as tf.Tensor4D;
  const row: Record<string, unknown> = { x: sh.x, k: sh.k, co: sh.co, stride: sh.s };
  {
    row.filterGrad_ms = cpuMs(() => tf.tidy(() => void (tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: [sh.s, sh.s], pad: 'same', dataFormat: 'NHWC', filterShape: [sh.k, sh.k, sh.x[3], sh.co] }) as tf.Tensor).dataSync()), 3);
  }
  const w = tf.randomNormal([sh.k, sh.k, sh.x[3], sh.co]) as tf.Tensor4D;
  row.inputGrad_ms = cpuMs(() => tf.tidy(() => void tf.conv2dTranspose(dy, w, sh.x, sh.s, 'same').dataSync()), 3);
  w.dispose();
  row.forward_ms = cpuMs(() => tf.tidy(() => void tf.conv2d(x, tf.ones([sh.k, sh.k, sh.x[3], sh.co]) as tf.Tensor4D, sh.s, 'same').dataSync()), 3);
  results.push(row);
  console.log(JSON.stringify(row));
  tf.dispose([x, y, dy]);
}
