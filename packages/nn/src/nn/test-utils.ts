// Helpers for this folder's tests (not exported from the package).
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@synth2/core';
import { initBackend } from '../tf/backend';

export type TestBackend = 'wasm' | 'cpu';

/** Switches tfjs to `name` (wasm or cpu) through `initBackend` (gradients and fast kernels registered). */
export async function useBackend(name: TestBackend): Promise<void> {
  await initBackend({ backend: name });
}

export function hasKernel(kernel: string, backend: string): boolean {
  try {
    return tf.getKernel(kernel, backend) != null;
  } catch {
    return false;
  }
}

/** Random float32 tensor from a seeded Rng (uniform in [-scale, scale)). */
export function randomTensor(shape: number[], seed: number, scale = 1): tf.Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.uniform(-scale, scale);
  return tf.tensor(v, shape, 'float32');
}

/** Asserts every element of `actual` is within `atol + rtol·|expected|`; returns the worst error. */
export function maxAbsDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  return worst;
}

export interface GradCheckResult {
  name: string;
  index: number;
  analytic: number;
  numeric: number;
}

/**
 * Compares tfjs gradients of scalar `f` with central finite differences at a few sampled elements of each
 * variable. Returns the samples that fail `|a − n| ≤ atol + rtol·max(|a|, |n|)` (empty when all pass).
 */
export function gradCheck(
  f: () => tf.Scalar,
  vars: Map<string, tf.Variable> | tf.Variable[],
  opts: { eps?: number; samples?: number; atol?: number; rtol?: number; seed?: number } = {},
): { failures: GradCheckResult[]; checked: number } {
  const eps = opts.eps ?? 1e-2;
  const samples = opts.samples ?? 4;
  const atol = opts.atol ?? 2e-3;
  const rtol = opts.rtol ?? 3e-2;
  const rng = new Rng(opts.seed ?? 7);
  const entries = vars instanceof Map ? [...vars.entries()] : vars.map((v, i) => [`var${i}`, v] as const);
  const list = entries.map(([, v]) => v);
  const analytic = tf.tidy(() => {
    const { grads } = tf.variableGrads(f, list);
    return list.map((v) => (grads[v.name] ? grads[v.name].dataSync().slice() : new Float32Array(v.size)));
  });
  const evalF = (): number => tf.tidy(() => f().dataSync()[0]);
  const failures: GradCheckResult[] = [];
  let checked = 0;
  entries.forEach(([name, v], vi) => {
    const base = v.dataSync().slice() as Float32Array;
    const picks = new Set<number>();
    while (picks.size < Math.min(samples, v.size)) picks.add(rng.int(v.size));
    for (const index of picks) {
      const set = (value: number): void => {
        const copy = base.slice();
        copy[index] = value;
        tf.tidy(() => v.assign(tf.tensor(copy, v.shape, 'float32')));
      };
      set(base[index] + eps);
      const plus = evalF();
      set(base[index] - eps);
      const minus = evalF();
      tf.tidy(() => v.assign(tf.tensor(base, v.shape, 'float32')));
      const numeric = (plus - minus) / (2 * eps);
      const a = analytic[vi][index];
      checked++;
      if (!(Math.abs(a - numeric) <= atol + rtol * Math.max(Math.abs(a), Math.abs(numeric)))) {
        failures.push({ name, index, analytic: a, numeric });
      }
    }
  });
  return { failures, checked };
}
