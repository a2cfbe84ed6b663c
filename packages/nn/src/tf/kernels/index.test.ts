import { getGradient, getKernel } from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { BackendUnavailableError } from '@synth2/core';
import { fastKernelStatus, registerFastKernels } from './index';
import { setupBackends } from './test-helpers';

beforeAll(setupBackends);

describe('registerFastKernels', () => {
  it('should register the wasm kernels and the matMul gradient, idempotently', async () => {
    const first = await registerFastKernels('wasm', { native: false });
    const second = await registerFastKernels('wasm', { native: false });
    expect(second).toEqual(first);
    for (const k of ['UnsortedSegmentSum', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'BatchMatMul']) {
      expect(first).toContain(`wasm:${k}`);
      expect(getKernel(k, 'wasm')).toBeDefined();
    }
    expect(first).toContain('grad:BatchMatMul');
    expect(getGradient('BatchMatMul')).toBeDefined();
    expect(fastKernelStatus().native).toBe(false);
  });

  it('should register the O(N·d) segment sum on cpu', async () => {
    expect(await registerFastKernels('cpu')).toContain('cpu:UnsortedSegmentSum');
  });

  it('should throw BackendUnavailableError saying how to build it when native is required but absent', async () => {
    const saved = process.env.SYNTH2_NATIVE_ADDON;
    process.env.SYNTH2_NATIVE_ADDON = '/nonexistent/synth2_native.node';
    try {
      const err = await registerFastKernels('wasm', { native: true }).catch((e: unknown) => e);
      expect(BackendUnavailableError.isInstance(err)).toBe(true);
      expect((err as Error).message).toMatch(/native kernels not built, running on portable wasm \(.*npm rebuild @synth2\/nn/);
      expect(fastKernelStatus().native).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.SYNTH2_NATIVE_ADDON;
      else process.env.SYNTH2_NATIVE_ADDON = saved;
    }
  });
});
