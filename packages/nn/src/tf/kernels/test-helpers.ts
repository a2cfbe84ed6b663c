// Test-only helpers for the kernel tests (not exported from the package).
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { Rng } from '@synth2/core';
import { registerFastKernels } from './index';

let ready: Promise<void> | undefined;
/** Initialises cpu and wasm once and registers the fast kernels for wasm (not for cpu: cpu is the reference). */
export function setupBackends(): Promise<void> {
  ready ??= (async () => {
    await tf.setBackend('cpu');
    await tf.ready();
    await tf.setBackend('wasm');
    await tf.ready();
    await registerFastKernels('wasm', { native: false });
  })();
  return ready;
}

export function randomArray(n: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniform(-1, 1);
  return out;
}

/** Runs `f` on a backend and returns its results as plain arrays (all tensors disposed). */
export function onBackend(name: 'cpu' | 'wasm', f: () => tf.Tensor[]): { data: Float32Array[]; shapes: number[][] } {
  const before = tf.getBackend();
  tf.setBackend(name);
  try {
    const outs = tf.tidy(f);
    const res = { data: outs.map((t) => t.dataSync() as Float32Array), shapes: outs.map((t) => t.shape) };
    tf.dispose(outs);
    return res;
  } finally {
    tf.setBackend(before);
  }
}

/** Runs `f` on cpu and on wasm and expects the same shapes and exactly the same values (copy-like kernels). */
export function expectSameAsCpu(f: () => tf.Tensor[]): void {
  const cpu = onBackend('cpu', f);
  const wasm = onBackend('wasm', f);
  expect(wasm.shapes).toEqual(cpu.shapes);
  for (let i = 0; i < cpu.data.length; i++) expect(Array.from(wasm.data[i]!)).toEqual(Array.from(cpu.data[i]!));
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Relative error scaled by the reference's magnitude (sums of many products accumulate in different orders). */
export function relErr(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let scale = 1;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  return maxAbsDiff(actual, expected) / scale;
}

/** Live tensors and backend buffers, to assert that nothing leaks. */
export function liveCounts(): { tensors: number; buffers: number } {
  const m = tf.memory();
  return { tensors: m.numTensors, buffers: m.numDataBuffers };
}
