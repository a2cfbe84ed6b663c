import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { resolvePackagePath } from './backend-locate';

/**
 * Multi-threaded tfjs wasm under Node.
 *
 * tfjs-backend-wasm ships a threaded SIMD build but never uses it under Node (tfjs issue #3830): its worker script
 * is handed to `new Worker` as a `blob:` URL, which Node refuses, and the C side caps the thread pool at half the
 * logical cores (one thread on a 2-core machine). This module starts that build itself:
 * - the worker script is written once to a content-addressed file in the OS temp folder and loaded from there;
 * - the wasm is instantiated here, with the core count the C side sees raised to 2 × `threads`, so that the pool
 *   gets exactly `threads` threads;
 * - the result is registered as the `wasm` backend, so every tfjs-backend-wasm kernel (and this package's fast
 *   kernels) runs on it unchanged. XNNPACK's matMul and conv2d then spread over the threads (≈1.8× on 2 cores);
 *   elementwise kernels stay single-threaded. Outputs are the same as single-threaded: each output element is
 *   still computed by one thread in the same order.
 */

interface EmscriptenWorker {
  unref?(): void;
}

interface ThreadedModule {
  cwrap(name: string, ret: string | null, args: string[]): (...args: unknown[]) => unknown;
  PThread?: { unusedWorkers: EmscriptenWorker[]; runningWorkers: EmscriptenWorker[] };
  tfjs?: Record<string, unknown>;
}

interface WasmPackage {
  BackendWasm: new (module: unknown) => tf.KernelBackend;
  setThreadsCount(n: number): void;
  getThreadsCount(): number;
}

/** The one WebAssembly call used here (this package compiles without the DOM typings that declare it). */
const wasmApi = (globalThis as unknown as {
  WebAssembly: { instantiate(bytes: Uint8Array, imports: unknown): Promise<{ instance: unknown; module: unknown }> };
}).WebAssembly;

type Factory = (config: Record<string, unknown>) => Promise<ThreadedModule>;

/** What `installThreadedWasm` did: the thread count it registered, or why it kept the stock single-threaded build. */
export type ThreadedWasmResult = { threads: number } | { threads: 1; reason: string };

let installed: { threads: number } | undefined;

/**
 * The number of wasm threads asked for: `threads`, else env `SYNTH2_THREADS`, else 1 (the stock build). Threads are
 * opt-in because XNNPACK's pool threads spin while they wait for work: a process with 2 threads next to another busy
 * process on 2 cores runs many times slower (two generator trainings side by side, 2 threads each: 3.1 s a step
 * instead of 0.25). Ask for them only when the process has the cores to itself.
 */
export function wantedWasmThreads(threads: number | undefined): number {
  if (threads !== undefined) return Math.max(1, Math.floor(threads));
  const env = process.env.SYNTH2_THREADS?.trim();
  if (env) {
    const n = Number(env);
    if (Number.isInteger(n) && n >= 1) return n;
  }
  return 1;
}

function workerScript(wasmDir: string): string {
  const requireHere = createRequire(join(wasmDir, 'noop.js'));
  const { wasmWorkerContents } = requireHere(join(wasmDir, 'tfjs-backend-wasm-threaded-simd.worker.js')) as {
    wasmWorkerContents: string;
  };
  // The contents are meant for a Blob: its `\n` escapes must stay escapes inside the script's string literals.
  const text = wasmWorkerContents.replace(/\n/g, '\\n');
  const file = join(tmpdir(), `synth2-tfjs-wasm-worker-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.js`);
  if (!existsSync(file) || readFileSync(file, 'utf8') !== text) {
    // written beside and renamed: processes starting together never load a half-written script
    const partial = `${file}.${process.pid}.partial`;
    try {
      writeFileSync(partial, text);
      renameSync(partial, file);
    } catch (error) {
      rmSync(partial, { force: true });
      throw error;
    }
  }
  return file;
}

/**
 * Registers tfjs-backend-wasm's threaded SIMD build with `threads` threads as the `wasm` backend (Node only; call
 * before the wasm backend is first initialised). Returns the threads registered, or 1 and the reason when it keeps
 * the stock build (one thread wanted, not Node, no SharedArrayBuffer, files missing, or wasm already started).
 */
export async function installThreadedWasm(threads: number, wasmPackage: unknown): Promise<ThreadedWasmResult> {
  if (installed) return installed;
  if (threads <= 1) return { threads: 1, reason: 'set SYNTH2_THREADS or the threads option for wasm threads' };
  if (typeof process === 'undefined' || !process.versions?.node) return { threads: 1, reason: 'not Node' };
  if (typeof SharedArrayBuffer === 'undefined') return { threads: 1, reason: 'no SharedArrayBuffer' };
  // (not `tf.findBackend`: for a registered but unstarted backend it starts initialising it)
  if ((tf.engine() as unknown as { registry: Record<string, unknown> }).registry.wasm) {
    return { threads: 1, reason: 'the wasm backend was already started single-threaded' };
  }
  const pkg = wasmPackage as Partial<WasmPackage>;
  if (typeof pkg.BackendWasm !== 'function' || typeof pkg.setThreadsCount !== 'function') {
    return { threads: 1, reason: '@tensorflow/tfjs-backend-wasm does not export BackendWasm/setThreadsCount' };
  }
  const pkgJson = resolvePackagePath('@tensorflow/tfjs-backend-wasm/package.json');
  const wasmDir = join(pkgJson ? dirname(pkgJson) : '', 'wasm-out');
  const jsPath = join(wasmDir, 'tfjs-backend-wasm-threaded-simd.js');
  const binPath = join(wasmDir, 'tfjs-backend-wasm-threaded-simd.wasm');
  if (!pkgJson || !existsSync(jsPath) || !existsSync(binPath)) {
    return { threads: 1, reason: 'the threaded SIMD build of @tensorflow/tfjs-backend-wasm was not found' };
  }
  let module: ThreadedModule;
  try {
    const factory = createRequire(jsPath)(jsPath) as Factory;
    const worker = workerScript(wasmDir);
    const binary = readFileSync(binPath);
    // emscripten waits for `receive` forever: a failed instantiation must end the wait instead
    let fail: (error: unknown) => void = () => {};
    const failed = new Promise<never>((_, reject) => (fail = reject));
    module = await Promise.race([
      factory({
        locateFile: (path: string, prefix: string) =>
          path.endsWith('.worker.js') ? worker : path.endsWith('.wasm') ? binPath : prefix + path,
        mainScriptUrlOrBlob: jsPath,
        instantiateWasm(imports: { env: Record<string, unknown> }, receive: (instance: unknown, module: unknown) => void) {
          // The C side sizes its pool as half the cores it is told about.
          imports.env.emscripten_num_logical_cores = () => 2 * threads;
          wasmApi.instantiate(binary, imports).then((r) => receive(r.instance, r.module), fail);
          return {};
        },
      }),
      failed,
    ]);
  } catch (error) {
    return { threads: 1, reason: `the threaded build failed to start (${(error as Error).message})` };
  }
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  const { BackendWasm, setThreadsCount } = pkg as WasmPackage;
  tf.removeBackend('wasm');
  setThreadsCount(threads);
  tf.registerBackend(
    'wasm',
    () => {
      const backend = new BackendWasm(module);
      // The thread pool's workers (started by the constructor, then parked between ops) must not keep the process
      // alive: emscripten ref()s a worker when it starts a thread on it.
      for (const w of [...(module.PThread?.unusedWorkers ?? []), ...(module.PThread?.runningWorkers ?? [])]) w.unref?.();
      return backend;
    },
    2,
  );
  installed = { threads };
  return installed;
}
