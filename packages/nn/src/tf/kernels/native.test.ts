import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { fastKernelStatus, nativeAddonPath, registerFastKernels } from './index';
import { loadNativeKernels } from './native-addon';
import { scatterAdd } from './segment-sum';
import { liveCounts, onBackend, randomArray, relErr, setupBackends } from './test-helpers';

const addon = nativeAddonPath() ? loadNativeKernels().addon : null;
if (!addon) {
  console.log('native.test: skipped — the native addon is not built (npm install builds it; see native/build-error.log)');
}
/** Every SGEMM micro-kernel this CPU runs (avx512f, avx2, portable on a recent x86-64), each tested in full. */
const sgemmKernels = addon?.kernels?.().split(', ') ?? [];

/** C = op(A)·op(B) in double precision, row-major, for the direct addon tests. */
function reference(tA: boolean, tB: boolean, m: number, n: number, k: number, a: Float32Array, b: Float32Array) {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (tA ? a[p * m + i]! : a[i * k + p]!) * (tB ? b[j * k + p]! : b[p * n + j]!);
      c[i * n + j] = s;
    }
  return c;
}

const ODD = [1, 3, 17, 33, 257];
/** m, n, k triples over the odd sizes: every size in every role, a few large enough for the thread split. */
const oddShapes: [number, number, number][] = [
  [1, 1, 1],
  [1, 257, 33],
  [257, 1, 17],
  [3, 17, 257],
  [17, 33, 3],
  [33, 3, 17],
  [33, 257, 17],
  [257, 33, 65],
  [257, 129, 257],
];

for (const kernel of sgemmKernels) {
  for (const threads of [1, 2]) {
    describe(`native kernels (sgemm ${kernel}, ${threads} thread${threads > 1 ? 's' : ''}) against tfjs cpu`, () => {
      beforeAll(async () => {
        await setupBackends();
        await registerFastKernels('wasm', { native: true, threads });
        expect(addon!.setKernel!(kernel)).toBe(kernel);
      });
      nativeSuite(kernel, threads);
    });
  }
}

function nativeSuite(kernel: string, threads: number): void {
  it('should report that the native path is active with this kernel and thread count', () => {
    expect(fastKernelStatus().native).toBe(true);
    expect(fastKernelStatus().kernels).toContain('native:sgemm');
    expect(addon!.info()).toBe(`synth2 sgemm ${kernel}, ${threads} thread${threads > 1 ? 's' : ''}`);
  });

  for (const [m, n, k] of oddShapes) {
    for (const [tA, tB] of [[false, false], [false, true], [true, false], [true, true]] as const) {
      it(`should match a double-precision product for sgemmBatched ${m}×${n}×${k} transA=${tA} transB=${tB}, batch 3 with strides and a broadcast A`, () => {
        const batch = 3;
        const sa = m * k + 5; // padded strides: items do not touch
        const sb = k * n + 7;
        const sc = m * n + 3;
        const a = randomArray(batch * sa, m + 1);
        const b = randomArray(batch * sb, n + 2);
        const c = new Float32Array(batch * sc).fill(Number.NaN);
        addon!.sgemmBatched(tA, tB, m, n, k, batch, a, sa, b, sb, c, sc);
        for (let i = 0; i < batch; i++) {
          const want = reference(tA, tB, m, n, k, a.subarray(i * sa), b.subarray(i * sb));
          expect(relErr(c.subarray(i * sc, i * sc + m * n), want), `item ${i}`).toBeLessThan(1e-5);
          if (i < batch - 1) expect(c.subarray(i * sc + m * n, (i + 1) * sc).every(Number.isNaN)).toBe(true);
        }
        const shared = new Float32Array(batch * m * n);
        addon!.sgemmBatched(tA, tB, m, n, k, batch, a, 0, b, sb, shared, m * n); // stride 0: A broadcast
        for (let i = 0; i < batch; i++) {
          const want = reference(tA, tB, m, n, k, a, b.subarray(i * sb));
          expect(relErr(shared.subarray(i * m * n, (i + 1) * m * n), want), `broadcast item ${i}`).toBeLessThan(1e-5);
        }
      });
    }
  }

  const matMulCases = [
    ...ODD.flatMap((d) => [
      { a: [d, 17], b: [17, 3], tA: false, tB: false },
      { a: [33, d], b: [1, 33], tA: true, tB: true },
    ]),
    { a: [257, 33], b: [257, 17], tA: true, tB: false },
    { a: [3, 257], b: [33, 257], tA: false, tB: true },
    { a: [6, 5], b: [5, 7], tA: false, tB: false },
    { a: [5, 6], b: [7, 5], tA: true, tB: true },
    { a: [2, 3, 6, 5], b: [2, 3, 7, 5], tA: false, tB: true },
    { a: [4, 17, 33], b: [33, 3], tA: false, tB: false },
    { a: [6, 5], b: [4, 5, 3], tA: false, tB: false },
    { a: [3, 33, 17], b: [1, 33, 5], tA: true, tB: false },
    { a: [2, 1, 6, 5], b: [1, 3, 5, 4], tA: false, tB: false },
    { a: [8, 40, 33], b: [8, 50, 33], tA: false, tB: true },
  ];
  for (const c of matMulCases) {
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

  // shapes where the native path is chosen (≥ 16 output channels, patch ≥ 64 values) and two where it is not
  const convCases: { x: [number, number, number, number]; k: [number, number]; co: number; stride: number | [number, number]; pad: 'same' | 'valid' }[] = [
    { x: [2, 6, 6, 8], k: [3, 3], co: 16, stride: 1, pad: 'same' },
    { x: [2, 8, 8, 8], k: [4, 4], co: 16, stride: 2, pad: 'same' },
    { x: [1, 7, 6, 16], k: [3, 2], co: 17, stride: [2, 1], pad: 'valid' },
    { x: [2, 4, 4, 64], k: [1, 1], co: 16, stride: 1, pad: 'valid' },
    { x: [2, 5, 5, 3], k: [3, 3], co: 4, stride: 1, pad: 'same' },
    { x: [2, 8, 8, 3], k: [4, 4], co: 16, stride: 2, pad: 'same' },
  ];
  for (const c of convCases) {
    it(`should match cpu for conv2d x ${c.x.join('×')}, kernel ${c.k.join('×')}, stride ${String(c.stride)}, ${c.pad} (forward, dx, dw)`, () => {
      const [kh, kw] = c.k;
      const xs = randomArray(c.x.reduce((a, b) => a * b, 1), 61);
      const ws = randomArray(kh * kw * c.x[3] * c.co, 62);
      const f = () => {
        const x = tf.tensor4d(xs, c.x);
        const w = tf.tensor4d(ws, [kh, kw, c.x[3], c.co]);
        const y = tf.conv2d(x, w, c.stride, c.pad);
        const r = tf.tensor(randomArray(y.size, 63), y.shape);
        const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), r)),
        )([x, w]);
        return [y, dx!, dw!];
      };
      const cpu = onBackend('cpu', f);
      const wasm = onBackend('wasm', f);
      expect(wasm.shapes).toEqual(cpu.shapes);
      for (let i = 0; i < 3; i++) expect(relErr(wasm.data[i]!, cpu.data[i]!)).toBeLessThan(1e-5);
    });
  }

  it('should match cpu for conv2dTranspose forward and gradients', () => {
    const xs = randomArray(2 * 4 * 4 * 3, 71);
    const ws = randomArray(4 * 4 * 5 * 3, 72);
    const f = () => {
      const x = tf.tensor4d(xs, [2, 4, 4, 3]);
      const w = tf.tensor4d(ws, [4, 4, 5, 3]);
      const up = (a: tf.Tensor, b: tf.Tensor) => tf.conv2dTranspose(a as tf.Tensor4D, b as tf.Tensor4D, [2, 8, 8, 5], 2, 'same');
      const y = up(x, w);
      const r = tf.tensor(randomArray(y.size, 73), y.shape);
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(up(a, b), r)))([x, w]);
      return [y, dx!, dw!];
    };
    const cpu = onBackend('cpu', f);
    const wasm = onBackend('wasm', f);
    for (let i = 0; i < 3; i++) expect(relErr(wasm.data[i]!, cpu.data[i]!)).toBeLessThan(1e-5);
  });

  it('should compute tanh and exp like cpu (to 1e-6 of their scale) and keep their gradients', () => {
    const xs = randomArray(1000, 54).map((v) => v * 8);
    const f = () => {
      const x = tf.tensor1d(xs);
      return [
        tf.tanh(x),
        tf.grad((a: tf.Tensor) => tf.sum(tf.tanh(a)))(x),
        tf.exp(x),
        tf.grad((a: tf.Tensor) => tf.sum(tf.exp(a)))(x),
        tf.softmax(tf.reshape(x, [10, 100])),
      ];
    };
    const cpu = onBackend('cpu', f);
    const wasm = onBackend('wasm', f);
    for (let i = 0; i < 5; i++) expect(relErr(wasm.data[i]!, cpu.data[i]!), `output ${i}`).toBeLessThan(1e-6);
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
}

describe.skipIf(!addon)('native reductions: the same bits as the portable JS kernels', () => {
  /** The portable wasm Sum over leading axes: double accumulators, row by row, rounded once. */
  function sumRowsJs(x: Float32Array, inner: number): Float32Array {
    const acc = new Float64Array(inner);
    for (let base = 0; base < x.length; base += inner) for (let j = 0; j < inner; j++) acc[j]! += x[base + j]!;
    return Float32Array.from(acc);
  }

  it('sumRows should equal the JS column sum bit for bit, over block edges and odd widths', () => {
    for (const [outer, inner] of [[1, 1], [7, 3], [1024, 64], [646, 2048], [5, 1025], [33, 3000]] as const) {
      const x = randomArray(outer * inner, outer + inner);
      for (let i = 0; i < x.length; i += 97) x[i]! *= 1e6; // mixed magnitudes make the order visible
      const out = new Float32Array(inner);
      addon!.sumRows!(x, out);
      expect(Buffer.from(out.buffer).equals(Buffer.from(sumRowsJs(x, inner).buffer))).toBe(true);
    }
  });

  it('scatterAdd should equal the JS scatter-add bit for bit, dropping out-of-range ids', () => {
    const n = 4099;
    const d = 37;
    const x = randomArray(n * d, 5);
    const ids = Int32Array.from({ length: n }, (_, i) => ((i * 7919) % 61) - 3); // -3 … 57, some repeated often
    const out = new Float32Array(55 * d).fill(Number.NaN);
    addon!.scatterAdd!(x, ids, 55, out);
    const js = new Float32Array(55 * d);
    scatterAdd(x, ids, 55, js);
    expect(Buffer.from(out.buffer).equals(Buffer.from(js.buffer))).toBe(true);
  });

  it('should name the operands when their lengths disagree', () => {
    expect(() => addon!.sumRows!(new Float32Array(10), new Float32Array(3))).toThrow(/sumRows: x's length \(10\) must be a multiple of out's \(3\)/);
    expect(() => addon!.scatterAdd!(new Float32Array(10), new Int32Array(5), 4, new Float32Array(7))).toThrow(/scatterAdd: x \(10 values\), ids \(5\) and out \(7\)/);
    expect(() => addon!.sumRows!(new Float32Array(10) as never, new Int32Array(10) as never)).toThrow(/out must be a Float32Array/);
  });

  it('should be what Sum and UnsortedSegmentSum use on the native path, with tfjs cpu agreeing', async () => {
    await setupBackends();
    await registerFastKernels('wasm', { native: true });
    const x = randomArray(300 * 70, 9);
    const ids = Array.from({ length: 300 }, (_, i) => (i * 13) % 40);
    const f = () => [tf.sum(tf.tensor3d(x, [30, 10, 70]), [0, 1]), tf.unsortedSegmentSum(tf.tensor2d(x, [300, 70]), tf.tensor1d(ids, 'int32'), 40)];
    const calls = { sumRows: 0, scatterAdd: 0 };
    const saved = { sumRows: addon!.sumRows!, scatterAdd: addon!.scatterAdd! };
    addon!.sumRows = (a, b) => (calls.sumRows++, saved.sumRows(a, b));
    addon!.scatterAdd = (a, b, c, d) => (calls.scatterAdd++, saved.scatterAdd(a, b, c, d));
    let wasm: ReturnType<typeof onBackend>;
    try {
      wasm = onBackend('wasm', f);
    } finally {
      Object.assign(addon!, saved);
    }
    expect(calls).toEqual({ sumRows: 1, scatterAdd: 1 });
    const cpu = onBackend('cpu', f);
    expect(Buffer.from(wasm.data[0]!.buffer).equals(Buffer.from(sumRowsJs(x, 70).buffer))).toBe(true);
    const js = new Float32Array(40 * 70);
    scatterAdd(x, Int32Array.from(ids), 40, js);
    expect(Buffer.from(wasm.data[1]!.buffer).equals(Buffer.from(js.buffer))).toBe(true);
    expect(relErr(wasm.data[0]!, cpu.data[0]!)).toBeLessThan(1e-5);
    expect(relErr(wasm.data[1]!, cpu.data[1]!)).toBeLessThan(1e-5);
  });
});
