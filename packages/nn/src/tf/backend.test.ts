import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tfcore from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendUnavailableError, ConfigurationError } from '@synth2/core';
import { describeBackend, initBackend } from './backend';
import { nativeAddonPath } from './kernels';
import { tf } from './index';
import { withTmpDir } from '@synth2/core/test';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

afterEach(() => {
  delete process.env.SYNTH2_BACKEND;
});

describe('initBackend', () => {
  it('should pick wasm automatically when no native TensorFlow package is installed, and say why', async () => {
    const logs: string[] = [];
    const info = await initBackend({ log: (m) => logs.push(m) });
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.reason).toMatch(/tensorflow-gpu: @tensorflow\/tfjs-node-gpu is not installed/);
    expect(info.reason).toMatch(/tensorflow: @tensorflow\/tfjs-node is not installed/);
    expect(info.simd).toBe(true);
    expect(info.threads).toBeGreaterThanOrEqual(1);
    expect(Array.isArray(info.kernels)).toBe(true);
    expect(logs.at(-1)).toBe(describeBackend(info));
    expect(await initBackend()).toBe(info); // idempotent
  });

  it('should register gradients so that gather, matMul and conv2d can be trained', async () => {
    await initBackend();
    const g = tf.grad((w: tfcore.Tensor) => tf.sum(tf.gather(w, tf.tensor1d([0, 0, 1], 'int32'))))(
      tf.tensor2d([
        [1, 2],
        [3, 4],
      ]),
    );
    expect(Array.from(g.dataSync())).toEqual([2, 2, 1, 1]);
    const a = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const ga = tf.grad((x: tfcore.Tensor) => tf.sum(tf.matMul(x as tfcore.Tensor2D, a)))(
      tf.tensor2d([
        [1, 0],
        [0, 1],
      ]),
    );
    expect(Array.from(ga.dataSync())).toEqual([3, 7, 3, 7]);
    const filter = tf.ones([2, 2, 1, 1]) as tfcore.Tensor4D;
    const gf = tf.grad((f: tfcore.Tensor) =>
      tf.sum(tf.conv2d(tf.ones([1, 3, 3, 1]) as tfcore.Tensor4D, f as tfcore.Tensor4D, 1, 'valid')),
    )(filter);
    expect(Array.from(gf.dataSync())).toEqual([4, 4, 4, 4]);
    // chained ops are available too
    const two = tf.scalar(2) as unknown as { mul(n: number): tfcore.Tensor };
    expect(Array.from(two.mul(3).dataSync())).toEqual([6]);
  });

  it('should force cpu with options.backend and switch back', async () => {
    const cpu = await initBackend({ backend: 'cpu' });
    expect(cpu.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(cpu.reason).toBe('forced by options.backend=cpu');
    expect(Array.from(tf.add(tf.scalar(1), tf.scalar(2)).dataSync())).toEqual([3]);
    expect((await initBackend({ backend: 'wasm' })).name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('should obey SYNTH2_BACKEND', async () => {
    process.env.SYNTH2_BACKEND = 'cpu';
    const info = await initBackend();
    expect(info.name).toBe('cpu');
    expect(info.reason).toBe('forced by SYNTH2_BACKEND=cpu');
    process.env.SYNTH2_BACKEND = 'wasm';
    expect((await initBackend()).name).toBe('wasm');
  });

  for (const [name, pkgName] of [
    ['tensorflow', '@tensorflow/tfjs-node'],
    ['tensorflow-gpu', '@tensorflow/tfjs-node-gpu'],
  ] as const) {
    it(`should throw BackendUnavailableError naming ${pkgName} when ${name} is forced but missing`, async () => {
      const before = tf.getBackend();
      process.env.SYNTH2_BACKEND = name;
      const error = await initBackend().catch((e) => e);
      expect(BackendUnavailableError.isInstance(error)).toBe(true);
      expect(error.backend).toBe(name);
      expect(error.packageName).toBe(pkgName);
      expect(error.message).toContain(`npm install ${pkgName}`);
      expect(tf.getBackend()).toBe(before);
    });
  }

  it('should reject an unknown backend name', async () => {
    process.env.SYNTH2_BACKEND = 'webgpu';
    const error = await initBackend().catch((e) => e);
    expect(ConfigurationError.isInstance(error)).toBe(true);
    expect(error.message).toMatch(
      /SYNTH2_BACKEND="webgpu" is not a backend; use one of tensorflow-gpu, tensorflow, wasm, cpu/,
    );
    await expect(initBackend({ backend: 'gpu' as 'cpu' })).rejects.toThrow(/unknown backend "gpu"/);
  });
});

describe('describeBackend', () => {
  it('should give one line with name, threads and reason', () => {
    const line = describeBackend({
      name: 'wasm',
      tfBackend: 'wasm',
      reason: 'auto',
      threads: 1,
      native: false,
      path: 'wasm',
      kernels: ['a'],
      simd: true,
    });
    expect(line).toBe('backend wasm (SIMD, 1 thread, 1 fast kernel): auto');
    expect(
      describeBackend({
        name: 'wasm',
        tfBackend: 'wasm',
        reason: 'auto; SIMD on, native kernels synth2 sgemm avx2, 1 thread',
        threads: 1,
        native: true,
        path: 'native',
        nativeKernels: 'synth2 sgemm avx2, 1 thread',
        kernels: ['a', 'b'],
        simd: true,
      }),
    ).toBe('backend wasm (SIMD, 1 thread, native kernels, 2 fast kernels): auto; SIMD on, native kernels synth2 sgemm avx2, 1 thread');
    expect(
      describeBackend({
        name: 'cpu',
        tfBackend: 'cpu',
        reason: 'forced',
        threads: 2,
        native: true,
        path: 'cpu',
        kernels: [],
      }),
    ).toBe('backend cpu (2 threads, native, 0 fast kernels): forced');
  });
});

describe('built entries in plain Node', () => {
  const built = existsSync(join(pkg, 'dist', 'index.js'));
  if (!built)
    console.warn('[skip] packages/nn/dist is not built: plain-Node checks skipped (run `npx tsup`)');

  it.skipIf(!built)('should register gradients outside bundlers (ESM build, plain node)', () => {
    const script = `
      const { initBackend, tf } = await import(${JSON.stringify(join(pkg, 'dist', 'index.js'))});
      const info = await initBackend({ backend: 'cpu' });
      const g = tf.grad((w) => tf.sum(tf.gather(w, tf.tensor1d([1, 1], 'int32'))))(tf.tensor1d([5, 6]));
      console.log(JSON.stringify({ name: info.name, grad: Array.from(g.dataSync()) }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      cwd: '/',
    });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!)).toEqual({ name: 'cpu', grad: [0, 2] });
  });

  it.skipIf(!built)('should not load tfjs from the main @synth2/core entry', () => {
    const script = `
      await import('@synth2/core');
      console.log(JSON.stringify({ tf: globalThis._tfengine !== undefined }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      cwd: pkg,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim())).toEqual({ tf: false });
  });

  /** Runs a matMul, a conv2d and a conv2d filter gradient on wasm in a fresh process with `threads` wasm threads. */
  function wasmRun(threads: string): { threads: number; reason: string; n: number; sha: string; head: number[] } {
    const script = `
      const { initBackend, tf } = await import(${JSON.stringify(join(pkg, 'dist', 'index.js'))});
      const info = await initBackend({ backend: 'wasm', native: false });
      let s = 7;
      const rand = (n) => Float32Array.from({ length: n }, () => ((s = (s * 16807) % 2147483647) / 2147483647) - 0.5);
      const a = tf.tensor2d(rand(300 * 200), [300, 200]);
      const b = tf.tensor2d(rand(200 * 150), [200, 150]);
      const x = tf.tensor4d(rand(8 * 16 * 16 * 12), [8, 16, 16, 12]);
      const f = tf.tensor4d(rand(3 * 3 * 12 * 20), [3, 3, 12, 20]);
      const df = tf.grad((w) => tf.sum(tf.square(tf.conv2d(x, w, 1, 'same'))))(f);
      const values = Float32Array.from([...tf.matMul(a, b).dataSync(), ...tf.conv2d(x, f, 1, 'same').dataSync(), ...df.dataSync()]);
      const sha = (await import('node:crypto')).createHash('sha256').update(Buffer.from(values.buffer)).digest('hex');
      console.log(JSON.stringify({ threads: info.threads, reason: info.reason, n: values.length, sha, head: Array.from(values.slice(0, 4)) }));`;
    // a process that keeps running (worker threads still referenced) fails the timeout instead of hanging the suite
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      cwd: pkg,
      timeout: 60_000,
      env: { ...process.env, SYNTH2_BACKEND: '', SYNTH2_THREADS: threads },
    });
    expect(r.status, `${r.stderr} ${r.error ?? ''}`).toBe(0);
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  }

  /** initBackend() with no options in a fresh process under `env`: the info and the logged line. */
  function defaultRun(env: Record<string, string>): { path: string; reason: string; line: string; native?: string } {
    const script = `
      const { initBackend, tf } = await import(${JSON.stringify(join(pkg, 'dist', 'index.js'))});
      const lines = [];
      const info = await initBackend({ log: (m) => lines.push(m) });
      const y = tf.matMul(tf.ones([3, 5]), tf.ones([5, 2])).dataSync();
      console.log(JSON.stringify({ path: info.path, reason: info.reason, line: lines.at(-1), native: info.nativeKernels, y0: y[0] }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      cwd: pkg,
      timeout: 60_000,
      env: { ...process.env, SYNTH2_BACKEND: '', SYNTH2_NATIVE: '', SYNTH2_NATIVE_ADDON: '', ...env },
    });
    expect(r.status, `${r.stderr} ${r.error ?? ''}`).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as ReturnType<typeof defaultRun> & { y0: number };
    expect(out.y0).toBe(5);
    return out;
  }

  it.skipIf(!built || !nativeAddonPath())('should take the native path by default when the addon is built, and say so', () => {
    const run = defaultRun({});
    expect(run.path).toBe('native');
    expect(run.native).toMatch(/^synth2 sgemm (avx512f|avx2|portable), 1 thread$/);
    expect(run.line).toMatch(/^backend wasm \(SIMD, 1 thread, native kernels, \d+ fast kernels\): auto: .*native kernels synth2 sgemm/);
  });

  it.skipIf(!built)('should run on portable wasm with SYNTH2_NATIVE=0, and say so in its one line', () => {
    const run = defaultRun({ SYNTH2_NATIVE: '0' });
    expect(run.path).toBe('wasm');
    expect(run.native).toBeUndefined();
    expect(run.line).toMatch(/^backend wasm \(SIMD, 1 thread, \d+ fast kernels\): auto: .*disabled \(SYNTH2_NATIVE=0\)$/);
  });

  it.skipIf(!built)('should say in one line how to get the native path when the addon is not built', () => {
    const run = defaultRun({ SYNTH2_NATIVE_ADDON: join(pkg, 'native', 'no-such-build', 'synth2_native.node') });
    expect(run.path).toBe('wasm');
    expect(run.line).toMatch(/native kernels not built, running on portable wasm \(.*npm rebuild @synth2\/nn/);
    expect(run.line.split('\n')).toHaveLength(1);
  });

  it.skipIf(!built)('should run wasm on 2 threads under Node with the same outputs as 1 thread, and exit', () => {
    const one = wasmRun('1');
    const two = wasmRun('2');
    expect(one.threads).toBe(1);
    expect(one.reason).toMatch(/single-threaded \(set SYNTH2_THREADS or the threads option for wasm threads\)/);
    expect(two.threads).toBe(2);
    expect(two.reason).toMatch(/SIMD on, 2 threads/);
    expect(two.n).toBe(300 * 150 + 8 * 16 * 16 * 20 + 3 * 3 * 12 * 20);
    expect(two.head.every((v) => Number.isFinite(v) && v !== 0)).toBe(true);
    // bit-identical outputs: every output element is still computed by one thread, in the same order
    expect(two.sha).toBe(one.sha);
  });

  /** Stand-ins for the native packages (real ones cannot install here), in a temp dir used as the working directory. */
  async function fakePackages(root: string, packages: Record<string, string>): Promise<void> {
    for (const [name, code] of Object.entries(packages)) {
      const d = join(root, 'node_modules', name);
      await mkdir(d, { recursive: true });
      await writeFile(join(d, 'package.json'), JSON.stringify({ name, version: '4.22.0', main: 'index.js' }));
      await writeFile(join(d, 'index.js'), code);
    }
  }
  function runInit(cwd: string): {
    name: string;
    reason: string;
    native: boolean;
    tf: string;
    gpu: boolean;
    node: boolean;
    grad: number[];
  } {
    const req = createRequire(import.meta.url);
    const script = `
      const { initBackend, tf } = await import(${JSON.stringify(join(pkg, 'dist', 'index.js'))});
      const info = await initBackend();
      const g = tf.grad((w) => tf.sum(tf.mul(w, w)))(tf.tensor1d([1, 2]));
      console.log(JSON.stringify({ name: info.name, reason: info.reason, native: info.native, tf: tf.getBackend(),
        gpu: !!globalThis.__fakeGpuImported, node: !!globalThis.__fakeNodeImported, grad: Array.from(g.dataSync()) }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      cwd,
      env: {
        ...process.env,
        SYNTH2_BACKEND: '',
        TFJS_CORE: req.resolve('@tensorflow/tfjs-core'),
        TFJS_CPU: req.resolve('@tensorflow/tfjs-backend-cpu'),
      },
    });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  }

  it.skipIf(!built)('should use an installed tfjs-node and report it as native', async () => {
    await withTmpDir(async (root) => {
      await fakePackages(root, {
        '@tensorflow/tfjs-node': `
          globalThis.__fakeNodeImported = true;
          const tf = require(process.env.TFJS_CORE);
          const { MathBackendCPU } = require(process.env.TFJS_CPU);
          tf.registerBackend('tensorflow', () => new MathBackendCPU(), 3);
          for (const k of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...k, backendName: 'tensorflow' });`,
      });
      const out = runInit(root);
      expect(out).toMatchObject({
        name: 'tensorflow',
        tf: 'tensorflow',
        native: true,
        node: true,
        gpu: false,
        grad: [2, 4],
      });
      expect(out.reason).toMatch(/tensorflow-gpu: @tensorflow\/tfjs-node-gpu is not installed/);
    });
  });

  it.skipIf(!built)('should never import tfjs-node after tfjs-node-gpu was imported and failed', async () => {
    await withTmpDir(async (root) => {
      await fakePackages(root, {
        '@tensorflow/tfjs-node-gpu': `globalThis.__fakeGpuImported = true; throw new Error('libcudart.so.11.0: cannot open shared object file');`,
        '@tensorflow/tfjs-node': `globalThis.__fakeNodeImported = true;`,
      });
      const out = runInit(root);
      expect(out).toMatchObject({ name: 'wasm', gpu: true, node: false, grad: [2, 4] });
      expect(out.reason).toMatch(/tensorflow-gpu: @tensorflow\/tfjs-node-gpu failed to load \(libcudart/);
      expect(out.reason).toMatch(/tensorflow: @tensorflow\/tfjs-node-gpu already loaded/);
    });
  });
});
