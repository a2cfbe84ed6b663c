import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '@synth2/core';
import { demoVlmConfig, inputPositions, parseVlmArchitecture } from './vlm-config';

describe('parseVlmArchitecture', () => {
  it('should fill in defaults', () => {
    const c = parseVlmArchitecture({ embeddingDim: 32, grid: [8, 8] });
    expect(c).toMatchObject({ dim: 64, heads: 4, group: 1, encoder: { layers: 0 }, resampler: { latents: 16, layers: 1 }, decoder: { layers: 2 } });
    expect(inputPositions(c)).toBe(64);
  });

  it('should accept the demo settings', () => {
    const demo = parseVlmArchitecture(demoVlmConfig.architecture);
    expect(demo.group).toBe(4); // 16×16 tokens regrouped 4×4 into 16
    expect(demo.resampler.layers).toBe(0); // the decoder reads the image tokens directly
    // synthetic pairs in every step, half of each batch
    expect('syntheticSteps' in demoVlmConfig.training).toBe(false);
    expect(demoVlmConfig.training.mix).toEqual({ real: 0.5, synthetic: 0.5 });
  });

  it('should reject unknown keys, bad sizes and contradictions with the setting named', () => {
    expect(() => parseVlmArchitecture({ embeddingDim: 32, grid: [8, 8], layers: 3 })).toThrow(ConfigurationError);
    expect(() => parseVlmArchitecture({ embeddingDim: 0, grid: [8, 8] })).toThrow(/embeddingDim/);
    expect(() => parseVlmArchitecture({ embeddingDim: 32, grid: [8, 8], dim: 30, heads: 4 })).toThrow(/not divisible by heads/);
    expect(() => parseVlmArchitecture({ embeddingDim: 32, grid: [8, 8], encoder: { layers: -1 } })).toThrow(/encoder\.layers/);
    expect(() => parseVlmArchitecture({ embeddingDim: 32, grid: [8, 6], group: 4 })).toThrow(/group 4 does not divide the grid 8×6/);
  });
});
