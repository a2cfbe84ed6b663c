/**
 * The browser build's backend selection, run in Node: Node has no WebGPU and no canvas, so the GPU backends are
 * skipped with their reasons; a stand-in WebGPU adapter (and a `webgpu` backend registered by a loader, backed by
 * tfjs's cpu kernels) shows the order and the loaders. The real webgl path runs in headless Chromium
 * (examples/studio's browser test).
 */
import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BackendUnavailableError, ConfigurationError } from '@synth2/core';
import { describeBackend, initBackend } from './backend.browser';

const g = globalThis as { navigator?: unknown };
const realNavigator = Object.getOwnPropertyDescriptor(globalThis, 'navigator');

/** A browser with a WebGPU adapter (the page's loader decides whether the backend starts). */
function withWebGpuAdapter(isFallbackAdapter = false): void {
  const adapter = { info: { vendor: 'test-vendor', architecture: 'test-arch', isFallbackAdapter } };
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: { requestAdapter: async () => adapter } }, configurable: true });
}

// each test selects afresh (initBackend returns its memo for the same request while tfjs still runs that backend)
beforeEach(async () => {
  tf.env().set('PROD', true); // silences the cpu backend's "install tfjs-node" banner
  await tf.setBackend('cpu');
});

afterEach(async () => {
  if (realNavigator) Object.defineProperty(globalThis, 'navigator', realNavigator);
  else delete g.navigator;
  if (tf.findBackendFactory('webgpu')) {
    if (tf.getBackend() === 'webgpu') await tf.setBackend('cpu');
    tf.removeBackend('webgpu');
  }
});

describe('initBackend (browser build)', () => {
  it('should fall back to wasm where neither WebGPU nor WebGL exists, and say why for each', async () => {
    const logs: string[] = [];
    const info = await initBackend({ log: (m) => logs.push(m) });
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.reason).toBe(
      'auto: webgpu: this browser has no WebGPU (navigator.gpu is absent); webgl: there is no canvas here (not a browser page or worker); SIMD on, 1 thread',
    );
    expect(logs.at(-1)).toBe(describeBackend(info));
  });

  it('should say that a GPU backend whose package the page neither imported nor gave a loader for was skipped', async () => {
    withWebGpuAdapter();
    const info = await initBackend({ backend: undefined, wasmPaths: undefined });
    expect(info.name).toBe('wasm');
    expect(info.reason).toMatch(
      /^auto: webgpu: @tensorflow\/tfjs-backend-webgpu is not loaded by the page \(import it, or pass loaders\.webgpu: a function that imports @tensorflow\/tfjs-backend-webgpu\); webgl: /,
    );
  });

  it('should load a GPU backend through its loader only when the browser has the API, and pick it first', async () => {
    const calls: string[] = [];
    const loaders = {
      webgpu: async () => {
        calls.push('webgpu');
        tf.registerBackend('webgpu', () => new MathBackendCPU());
      },
      webgl: async () => {
        calls.push('webgl');
      },
    };
    const skipped = await initBackend({ loaders });
    expect(skipped.name).toBe('wasm');
    expect(calls).toEqual([]); // no WebGPU, no canvas: neither package is fetched

    withWebGpuAdapter();
    const info = await initBackend({ loaders: { webgpu: loaders.webgpu } });
    expect(calls).toEqual(['webgpu']);
    expect(info.name).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect(info.reason).toBe('auto: first available; WebGPU (test-vendor test-arch)');
  });

  it('should skip a software (fallback) adapter without loading its package unless the backend is forced', async () => {
    withWebGpuAdapter(true);
    const calls: string[] = [];
    const loaders = {
      webgpu: async () => {
        calls.push('webgpu');
        tf.registerBackend('webgpu', () => new MathBackendCPU());
      },
    };
    const auto = await initBackend({ loaders });
    expect(auto.name).toBe('wasm');
    expect(auto.reason).toMatch(/^auto: webgpu: WebGPU \(test-vendor test-arch\) is a software renderer, slower than wasm; webgl: /);
    expect(calls).toEqual([]);
    const forced = await initBackend({ backend: 'webgpu', loaders });
    expect(forced.name).toBe('webgpu');
    expect(forced.reason).toBe('forced by options.backend=webgpu; WebGPU (test-vendor test-arch)');
  });

  it('should report a loader that fails, or registers no backend, and go on to the next backend', async () => {
    withWebGpuAdapter();
    const failing = await initBackend({ loaders: { webgpu: () => Promise.reject(new Error('chunk 404')) } });
    expect(failing.name).toBe('wasm');
    expect(failing.reason).toMatch(/^auto: webgpu: @tensorflow\/tfjs-backend-webgpu failed to load \(chunk 404\); webgl: /);

    await tf.setBackend('cpu'); // the same request again: select afresh, not the memo
    const empty = await initBackend({ loaders: { webgpu: () => Promise.resolve({}) } });
    expect(empty.reason).toMatch(/webgpu: loading @tensorflow\/tfjs-backend-webgpu registered no "webgpu" backend with this page's @tensorflow\/tfjs-core/);
  });

  it('should throw naming the backend when a forced GPU backend cannot start, and reject unknown names', async () => {
    const forced = initBackend({ backend: 'webgl' });
    await expect(forced).rejects.toThrow(BackendUnavailableError);
    await expect(forced).rejects.toThrow('backend "webgl" is unavailable: there is no canvas here (not a browser page or worker).');
    await expect(initBackend({ backend: 'tensorflow' as never })).rejects.toThrow(ConfigurationError);
    await expect(initBackend({ backend: 'tensorflow' as never })).rejects.toThrow(/unknown backend "tensorflow"; in a browser use one of webgpu, webgl, wasm, cpu/);
  });

  it('should say it was forced when options.backend names one', async () => {
    const info = await initBackend({ backend: 'cpu' });
    expect(info.name).toBe('cpu');
    expect(info.reason).toBe('forced by options.backend=cpu; plain JavaScript');
  });
});
